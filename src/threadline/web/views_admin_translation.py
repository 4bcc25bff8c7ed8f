"""The "Machine translation" screen (/app/admin/translation): the provider (DeepL, Google Cloud Translation,
LibreTranslate or none), its address and key (write-only), the monthly character budget with this month's
usage, and the glossary of product terms. Writes are the translation domain's actions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from threadline.core.errors import ValidationFailed
from threadline.tenancy.permissions import Permission
from threadline.translation.actions import do_delete_glossary_term, do_save_glossary_term, do_save_settings
from threadline.translation.models import Provider
from threadline.translation.queries import access_glossary_term, glossary_of, settings_for, usage_of
from threadline.web.admin_forms import screen, submit
from threadline.web.views_admin import admin_screen

URL = "/app/admin/translation"
TEMPLATE = "translation/admin.html"


def _page(request: HttpRequest, *, error: Exception | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    settings = settings_for(agent.workspace_id)
    usage = usage_of(agent.workspace_id)
    budget = settings.monthly_budget if settings else 0
    context: dict[str, Any] = {
        "settings": settings, "providers": Provider.choices, "usage": usage, "budget": budget,
        "share": min(100, round(100 * usage.characters / budget)) if budget else None,
        "terms": glossary_of(agent.workspace_id),
        "languages": [code for code in (agent.workspace.languages or []) if code] or ["cs", "he", "fa", "th", "en"],
    }
    return screen(request, TEMPLATE, context, error=error)


def _budget(value: str) -> int:
    try:
        return int((value or "0").replace(",", "").replace(" ", ""))
    except ValueError as exc:
        raise ValidationFailed(_("Give a number of characters (0: no limit)."), code="invalid_budget",
                               field="monthly_budget") from exc


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_WORKSPACE)
def translation_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    agent = request.agent  # type: ignore[attr-defined]
    data = request.POST
    key = data.get("api_key", "")
    return submit(request, lambda: do_save_settings(
        agent, provider=data.get("provider", ""), base_url=data.get("base_url", ""),
        api_key=None if not key and data.get("remove_key") != "1" else key,
        monthly_budget=_budget(data.get("monthly_budget", "0"))),
        _("Machine translation saved."), URL, lambda exc: _page(request, error=exc))


@require_POST
@admin_screen(Permission.ADMIN_WORKSPACE)
def glossary_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    data = request.POST
    mapped = {key.removeprefix("to_"): value for key, value in data.items() if key.startswith("to_")}
    return submit(request, lambda: do_save_glossary_term(agent, data.get("term", ""), mapped),
                  _("Glossary term saved."), URL, lambda exc: _page(request, error=exc))


@require_POST
@admin_screen(Permission.ADMIN_WORKSPACE)
def glossary_delete_view(request: HttpRequest, term_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    return submit(request, lambda: do_delete_glossary_term(agent, access_glossary_term(agent, term_id)),
                  _("Glossary term removed."), URL, lambda exc: _page(request, error=exc))
