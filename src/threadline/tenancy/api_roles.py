"""/api/v1/roles: every member may read the roles (built-in and custom) and the permission vocabulary; members who
manage people (`admin.people`) create, change and delete custom roles. Giving an agent a role is
`PUT /api/v1/agents/{id}/role` (tenancy/api.py)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.core.schemas import Id
from threadline.tenancy.models import BUILT_IN_ROLES, CUSTOM_ROLE, CustomRole, Membership, Role
from threadline.tenancy.permissions import GRANTS, Permission, require
from threadline.tenancy.queries import access_role, built_in_member_counts, list_roles
from threadline.tenancy.roles import do_create_role, do_delete_role, do_update_role
from threadline.tenancy.schemas import PermissionOut, RoleIn, RoleOut, RolePatch

router = Router(tags=["roles"])


def built_in_roles(agent: Membership) -> list[dict[str, Any]]:
    counts = built_in_member_counts(agent)
    return [{"id": None, "key": str(key), "name": str(Role(key).label), "description": "", "built_in": True,
             "permissions": sorted(GRANTS[key]), "member_count": counts.get(key, 0)} for key in BUILT_IN_ROLES]


def role_out(role: CustomRole) -> dict[str, Any]:
    count = getattr(role, "member_count", None)
    return {"id": role.pk, "key": CUSTOM_ROLE, "name": role.name, "description": role.description,
            "built_in": False, "permissions": sorted(role.permissions or ()),
            "member_count": role.members.count() if count is None else count}


@router.get("", response=responses(list[RoleOut]), summary="List roles: the built-in ones, then the custom ones")
def roles(request: HttpRequest) -> list[dict[str, Any]]:
    agent = actor(request)
    return built_in_roles(agent) + [role_out(role) for role in list_roles(agent)]


@router.get("/permissions", response=responses(list[PermissionOut]), summary="The permissions a role can grant")
def permissions(request: HttpRequest) -> list[dict[str, str]]:
    return [{"code": code, "label": str(label)} for code, label in Permission.choices]


@router.post("", response=responses(RoleOut, 201), summary="Create a custom role (members who manage people)")
def create_role(request: HttpRequest, payload: RoleIn) -> Status[Any]:
    """An empty name or an unknown permission code is a 400; a name in use (built-in names included) a 409;
    granting a permission your own role does not hold a 403."""
    agent = actor(request)
    require(agent, Permission.ADMIN_PEOPLE)
    with transaction.atomic():
        role = do_create_role(agent, agent.workspace, name=payload.name, description=payload.description,
                              permissions=payload.permissions)
    return Status(201, role_out(access_role(agent, role.pk)))


@router.get("/{role_id}", response=responses(RoleOut), summary="Get a custom role")
def role_detail(request: HttpRequest, role_id: Id) -> dict[str, Any]:
    return role_out(access_role(actor(request), role_id))


@router.patch("/{role_id}", response=responses(RoleOut),
              summary="Change a custom role's name, description or permissions (members who manage people)")
def update_role(request: HttpRequest, role_id: Id, payload: RolePatch) -> dict[str, Any]:
    """Its members hold the new permissions from their next request. Narrowing the role that the workspace's
    only full admins hold is a 409 `last_admin`."""
    agent = actor(request)
    require(agent, Permission.ADMIN_PEOPLE)
    with transaction.atomic():
        do_update_role(agent, access_role(agent, role_id), name=payload.name, description=payload.description,
                       permissions=payload.permissions)
    return role_out(access_role(agent, role_id))


@router.delete("/{role_id}", response=responses(None, 204),
               summary="Delete a custom role nobody holds (members who manage people)")
def delete_role(request: HttpRequest, role_id: Id) -> Status[None]:
    """A role still held by a member (active or not) is a 409 `role_in_use`."""
    agent = actor(request)
    require(agent, Permission.ADMIN_PEOPLE)
    with transaction.atomic():
        do_delete_role(agent, access_role(agent, role_id))
    return Status(204, None)
