"""The CRM screen (/app/admin/crm): set up HubSpot or Salesforce with an app's client id and secret, sign in at
the CRM (OAuth 2; it comes back to /app/admin/crm/callback), see what the sync did and every conflict, or
disconnect. The writes are crm's actions (audited there)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from threadline.core.errors import ValidationFailed
from threadline.crm.actions import do_disconnect, do_finish_oauth, do_prepare_connection
from threadline.crm.models import CrmConnection, Provider
from threadline.crm.oauth import authorize_url, exchange, read_state, redirect_uri
from threadline.crm.queries import access_connection, list_connections, sync_log
from threadline.tenancy.permissions import Permission
from threadline.web.admin_forms import FormErrors, screen, submit
from threadline.web.views_admin import admin_screen

URL = "/app/admin/crm"


def _page(request: HttpRequest, *, error: Exception | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    connections = {c.provider: c for c in list_connections(agent)}
    return screen(request, "web/admin/crm.html", {
        "providers": [(value, label, connections.get(value)) for value, label in Provider.choices],
        "log": sync_log(agent).order_by("-id")[:50], "redirect_uri": redirect_uri(),
        "hook_base": f"{request.build_absolute_uri('/')[:-1]}/hooks/crm/"}, error=error)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_WORKSPACE)
def crm_view(request: HttpRequest) -> HttpResponse:
    """POST sets up a provider and sends the admin to the CRM's sign-in page."""
    if request.method != "POST":
        return _page(request)
    agent = request.agent  # type: ignore[attr-defined]
    form = request.POST
    try:
        with transaction.atomic():
            connection = do_prepare_connection(
                agent, provider=form.get("provider"), client_id=form.get("client_id"),
                client_secret=form.get("client_secret"), auth_url=form.get("auth_url"),
                create_missing=form.get("create_missing") == "on")
    except FormErrors as exc:
        return _page(request, error=exc)
    return redirect(authorize_url(connection, agent.pk))


@require_GET
@admin_screen(Permission.ADMIN_WORKSPACE)
def callback_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    try:
        state = read_state(request.GET.get("state", ""))
        if state.get("w") != agent.workspace_id or state.get("m") != agent.pk:
            raise ValidationFailed(_("This sign-in was started by someone else or in another workspace."),
                                   code="crm_state_invalid")
        if request.GET.get("error") or not request.GET.get("code"):
            raise ValidationFailed(request.GET.get("error_description") or _("The CRM did not give access."),
                                   code="crm_oauth_refused")
        connection: CrmConnection = access_connection(agent, str(state.get("p")))
        answer = exchange(connection, request.GET["code"])
        with transaction.atomic():
            do_finish_oauth(agent, connection, answer)
    except FormErrors as exc:
        return _page(request, error=exc)
    return redirect(URL)


@require_POST
@admin_screen(Permission.ADMIN_WORKSPACE)
def disconnect_view(request: HttpRequest, provider: str) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    return submit(request, lambda: do_disconnect(agent, access_connection(agent, provider)),
                  _("CRM disconnected."), URL, lambda exc: _page(request, error=exc))
