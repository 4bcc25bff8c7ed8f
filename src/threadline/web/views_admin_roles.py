"""/app/admin/roles: the built-in roles (read-only, what each grants) and the workspace's custom roles with their
member counts; create, change (name, description, a checkbox per permission) and delete a custom role, through
the same actions as /api/v1/roles (tenancy.roles). Who holds a role is set on /app/admin/people."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from threadline.tenancy.models import BUILT_IN_ROLES, Role
from threadline.tenancy.permissions import GRANTS, Permission
from threadline.tenancy.queries import access_role, built_in_member_counts, list_roles
from threadline.tenancy.roles import do_create_role, do_delete_role, do_update_role
from threadline.web.admin_forms import listed, screen
from threadline.web.admin_inputs import form_submit
from threadline.web.views_admin import admin_screen

TEMPLATE = "web/admin/roles.html"
URL = "/app/admin/roles"


def _context(request: HttpRequest) -> dict[str, Any]:
    me = request.agent  # type: ignore[attr-defined]
    counts = built_in_member_counts(me)
    return {
        "permissions": Permission.choices,
        "built_in": [{"key": key, "name": Role(key).label, "grants": GRANTS[key], "count": counts.get(key, 0)}
                     for key in BUILT_IN_ROLES],
        "roles": list(list_roles(me)),
    }


def _fields(request: HttpRequest) -> dict[str, Any]:
    return {"name": request.POST.get("name", ""), "description": request.POST.get("description", ""),
            "permissions": listed(request.POST, "permissions")}


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_PEOPLE)
def roles_view(request: HttpRequest) -> HttpResponse:
    me = request.agent  # type: ignore[attr-defined]
    if request.method == "POST":
        return form_submit(request, lambda: do_create_role(me, me.workspace, **_fields(request)),
                           done=_("Role created."), back=URL, template=TEMPLATE, context=lambda: _context(request))
    return screen(request, TEMPLATE, _context(request))


@require_POST
@admin_screen(Permission.ADMIN_PEOPLE)
def role_update_view(request: HttpRequest, role_id: int) -> HttpResponse:
    me = request.agent  # type: ignore[attr-defined]
    role = access_role(me, role_id)
    return form_submit(request, lambda: do_update_role(me, role, **_fields(request)), done=_("Role saved."),
                       back=URL, template=TEMPLATE, context=lambda: _context(request))


@require_POST
@admin_screen(Permission.ADMIN_PEOPLE)
def role_delete_view(request: HttpRequest, role_id: int) -> HttpResponse:
    me = request.agent  # type: ignore[attr-defined]
    role = access_role(me, role_id)
    return form_submit(request, lambda: do_delete_role(me, role), done=_("Role deleted."), back=URL,
                       template=TEMPLATE, context=lambda: _context(request))
