"""The "Public triage" screen (/app/admin/triage): the workspace's keyword lists (urgent, followed topics, extra
spam and abuse words), its thresholds, and the optional sentiment provider; a box to try a post against them.
Writes are the triage domain's actions (docs/social.md, Triage)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from threadline.core.errors import ValidationFailed
from threadline.tenancy.permissions import Permission
from threadline.triage.actions import SettingsInput, do_save_triage_settings
from threadline.triage.api import settings_out
from threadline.triage.engine import triage_post
from threadline.triage.models import Provider
from threadline.triage.providers import PROVIDER_FIELDS
from threadline.triage.queries import access_settings
from threadline.triage.reasons import CATEGORY_LABELS, DECISION_LABELS
from threadline.triage.verdict import PublicPost
from threadline.web.admin_forms import screen, submit
from threadline.web.views_admin import admin_screen

URL = "/app/admin/triage"
TEMPLATE = "web/admin/triage.html"
LISTS = ("urgent_words", "topic_words", "spam_words", "abuse_words")


def _page(request: HttpRequest, *, error: Exception | None = None, verdict: Any = None,
          tried: str = "") -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    saved = settings_out(access_settings(agent))
    context: dict[str, Any] = {"saved": saved, "lists": {name: "\n".join(saved[name]) for name in LISTS},
                               "providers": Provider.choices, "verdict": verdict, "tried": tried,
                               "category": CATEGORY_LABELS.get(verdict.category, "") if verdict else "",
                               "decision": DECISION_LABELS.get(verdict.decision, "") if verdict else "",
                               "fields": {kind: list(fields) for kind, fields in PROVIDER_FIELDS.items()}}
    return screen(request, TEMPLATE, context, error=error)


def _number(value: str, kind: type, field: str) -> Any:
    try:
        return kind(value.strip())
    except ValueError as exc:
        raise ValidationFailed(_("Give a number."), code="invalid_threshold", field=field) from exc


def _input(data: Any) -> SettingsInput:
    provider = data.get("provider", "")
    config = {name: data.get(f"{provider}_{name}", "") for name in PROVIDER_FIELDS.get(provider, {})}
    return SettingsInput(
        **{name: tuple(line for line in data.get(name, "").splitlines() if line.strip()) for name in LISTS},
        high_reach=_number(data.get("high_reach", "10000"), int, "high_reach"),
        praise_reach=_number(data.get("praise_reach", "1000"), int, "praise_reach"),
        complaint_below=_number(data.get("complaint_below", "-0.25"), float, "complaint_below"),
        praise_above=_number(data.get("praise_above", "0.3"), float, "praise_above"),
        provider=provider, provider_config=config)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def triage_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    agent = request.agent  # type: ignore[attr-defined]
    data = request.POST
    if data.get("form") == "try":
        text = data.get("text", "")[:10_000]
        post = PublicPost(workspace_id=agent.workspace_id, text=text, language=None, channel_kind="social_api",
                          author_handle="", author_reach=None, known_customer=False, is_reply=False)
        return _page(request, verdict=triage_post(post), tried=text)
    return submit(request, lambda: do_save_triage_settings(agent, _input(data)), _("Triage settings saved."), URL,
                  lambda exc: _page(request, error=exc))
