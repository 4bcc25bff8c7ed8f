"""The "Workspace" screen (/app/admin/workspace): name, languages offered and the default one, time zone, phone
region, countries served and the reopen window. The settings' rules are tenancy's (`workspace_settings`)."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from threadline.tenancy.permissions import Permission
from threadline.tenancy.workspace_settings import codes, do_update_workspace
from threadline.web.admin_forms import screen, submit
from threadline.web.views_admin import admin_screen

URL = "/app/admin/workspace"
TEMPLATE = "web/admin/workspace.html"


@cache
def time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _page(request: HttpRequest, error: Exception | None = None) -> HttpResponse:
    workspace = request.agent.workspace  # type: ignore[attr-defined]
    form = request.POST if error is not None else {
        "name": workspace.name, "languages": ", ".join(workspace.languages or []),
        "default_language": workspace.default_language, "time_zone": workspace.time_zone,
        "default_region": workspace.default_region, "countries": ", ".join(workspace.countries or []),
        "reopen_window_days": workspace.reopen_window_days,
    }
    return screen(request, TEMPLATE, {"form": form, "time_zones": time_zones()}, error=error)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_WORKSPACE)
def workspace_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    data = request.POST
    return submit(request, lambda: do_update_workspace(
        request.agent,  # type: ignore[attr-defined]
        name=data.get("name", ""), languages=codes(data.get("languages", "")),
        default_language=data.get("default_language", "").strip(), time_zone=data.get("time_zone", ""),
        default_region=data.get("default_region", ""), countries=codes(data.get("countries", "")),
        reopen_window_days=data.get("reopen_window_days", ""),
    ), _("Workspace settings saved."), URL, lambda exc: _page(request, exc))
