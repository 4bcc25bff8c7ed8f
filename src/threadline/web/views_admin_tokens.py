"""The "API tokens" screen (/app/admin/tokens): create a token acting as one of the workspace's agents (its value
is shown on the page that answers the creation, once, never again), list tokens by prefix, name, agent and last
use, and revoke one. Creation and revocation are tenancy's actions (audited there)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from threadline.tenancy.actions import do_create_api_token, do_revoke_api_token
from threadline.tenancy.permissions import Permission
from threadline.tenancy.queries import access_agent, access_token, list_agents, list_tokens
from threadline.web.admin_forms import FormErrors, screen, submit
from threadline.web.views import _int
from threadline.web.views_admin import admin_screen

URL = "/app/admin/tokens"
TEMPLATE = "web/admin/tokens.html"
MAX_NAME = 200


def _page(request: HttpRequest, *, error: Exception | None = None, created: Any = None, raw: str = "") -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    context = {"tokens": list_tokens(agent).order_by("revoked_at", "-id"),
               "agents": list_agents(agent).filter(is_active=True), "created": created, "raw": raw}
    return screen(request, TEMPLATE, context, error=error, status=201 if raw else 200)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_WORKSPACE)
def tokens_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    agent = request.agent  # type: ignore[attr-defined]
    name = (request.POST.get("name") or "").strip()[:MAX_NAME] or "api"
    try:
        with transaction.atomic():
            owner = access_agent(agent, _int(request.POST.get("agent") or agent.pk, "agent"))
            token, raw = do_create_api_token(owner, name=name)
    except FormErrors as exc:
        return _page(request, error=exc)
    return _page(request, created=token, raw=raw)


@require_POST
@admin_screen(Permission.ADMIN_WORKSPACE)
def revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]

    def revoke() -> None:
        token = access_token(agent, token_id)
        if token.revoked_at is None:
            do_revoke_api_token(token)

    return submit(request, revoke, _("Token revoked; it stops working at once."), URL,
                  lambda exc: _page(request, error=exc))
