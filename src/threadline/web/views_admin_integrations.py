"""The integrations screens: the customer panel's apps (/app/admin/apps: your own signed card URL, Shopify,
WooCommerce) and the Jira site (/app/admin/jira). The writes are panelapps' and jira's actions (audited there)."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from threadline.jira.actions import do_save_connection
from threadline.jira.queries import access_connection_settings
from threadline.panelapps.actions import do_delete_app, do_save_app
from threadline.panelapps.models import PanelApp
from threadline.panelapps.queries import access_app, list_apps
from threadline.panelapps.registry import SECRETS
from threadline.tenancy.permissions import Permission
from threadline.web.admin_forms import FormErrors, screen, submit
from threadline.web.views_admin import admin_screen

APPS_URL, JIRA_URL = "/app/admin/apps", "/app/admin/jira"


def _apps_page(request: HttpRequest, *, error: Exception | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    return screen(request, "web/admin/apps.html", {"apps": list_apps(agent), "kinds": PanelApp.Kind.choices,
                                                   "posted": request.POST if error else {}}, error=error)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_WORKSPACE)
def apps_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _apps_page(request)
    agent = request.agent  # type: ignore[attr-defined]
    kind = request.POST.get("kind", "")
    secrets = {name: request.POST.get(name, "") for name in SECRETS.get(kind, ())}
    return submit(request, lambda: do_save_app(agent, None, kind=kind, name=request.POST.get("name"),
                                                base_url=request.POST.get("base_url"), secrets=secrets),
                  _("App added to the customer panel."), APPS_URL, lambda exc: _apps_page(request, error=exc))


@require_POST
@admin_screen(Permission.ADMIN_WORKSPACE)
def app_change_view(request: HttpRequest, app_id: int, operation: str) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]

    if operation not in ("toggle", "delete"):
        raise Http404
    def change() -> None:
        app = access_app(agent, app_id)
        if operation == "delete":
            do_delete_app(agent, app)
        else:
            do_save_app(agent, app, kind=app.kind, name=app.name, base_url=app.base_url,
                        is_active=not app.is_active, position=app.position)

    done = _("App removed.") if operation == "delete" else _("App switched.")
    return submit(request, change, done, APPS_URL, lambda exc: _apps_page(request, error=exc))


def _jira_page(request: HttpRequest, *, error: Exception | None = None, secret: str | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    connection = access_connection_settings(agent)
    hook = f"{request.build_absolute_uri('/')[:-1]}/hooks/jira/{connection.pk}/" if connection else ""
    return screen(request, "web/admin/jira.html", {"connection": connection, "hook": hook, "secret": secret},
                  error=error, status=201 if secret else 200)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_WORKSPACE)
def jira_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _jira_page(request)
    agent = request.agent  # type: ignore[attr-defined]
    form = request.POST
    try:
        with transaction.atomic():
            _connection, secret = do_save_connection(
                agent, base_url=form.get("base_url"), email=form.get("email"), project_key=form.get("project_key"),
                issue_type=form.get("issue_type"), api_token=form.get("api_token"),
                is_active=form.get("is_active") == "on")
    except FormErrors as exc:
        return _jira_page(request, error=exc)
    return _jira_page(request, secret=secret)
