"""Writes on custom roles: create, change and delete a workspace's own roles, and the checks behind giving a member
a role. Callers own the transaction and check the actor holds `Permission.ADMIN_PEOPLE`; every write is audited
and publishes its event after commit.

The built-in roles (admin, agent, light agent) are not rows: `permissions.GRANTS` defines them, the same in every
workspace, so they can be neither changed nor deleted. A member holds no more than what its role grants, and
nobody grants more than they hold (`check_may_grant`): a member who manages people cannot make themselves or
anyone else more powerful than themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.core.errors import Conflict, PermissionDenied, ValidationFailed
from threadline.events.bus import publish
from threadline.tenancy.events import RoleChanged, RoleDeleted
from threadline.tenancy.models import BUILT_IN_ROLES, CustomRole, Membership, Role, Workspace
from threadline.tenancy.permissions import ALL, Permission, grants_of, holders, permissions_of
from threadline.tenancy.roster import check_keeps_an_admin

MAX_NAME = 100
MAX_DESCRIPTION = 500


def check_permission_codes(codes: Iterable[str]) -> list[str]:
    """The codes, sorted and without repeats; an unknown one is refused (400)."""
    wanted = sorted(set(codes))
    unknown = [code for code in wanted if code not in ALL]
    if unknown:
        raise ValidationFailed(_("Unknown permission: %(codes)s.") % {"codes": ", ".join(unknown)},
                               code="unknown_permission", field="permissions")
    return wanted


def check_role_name(workspace_id: int, name: str, *, role: CustomRole | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_("A role needs a name."), code="name_required", field="name")
    if len(name) > MAX_NAME:
        raise ValidationFailed(_("A role's name has at most %(n)d characters.") % {"n": MAX_NAME}, field="name")
    taken = name.casefold() in {str(Role(value).label).casefold() for value in BUILT_IN_ROLES} or any(
        other.name.casefold() == name.casefold()
        for other in CustomRole.objects.filter(workspace_id=workspace_id).exclude(pk=getattr(role, "pk", None))
    )
    if taken:
        raise Conflict(_("A role with this name exists already."), code="role_exists", field="name")
    return name


def check_may_grant(actor: Membership | None, codes: Iterable[str]) -> None:
    """Nobody grants a permission they do not hold (None is the installation itself, which may)."""
    if actor is None:
        return
    missing = sorted(set(codes) - permissions_of(actor))
    if missing:
        labels = ", ".join(str(Permission(code).label) for code in missing)
        raise PermissionDenied(_("You cannot grant what your own role does not allow: %(labels)s.")
                               % {"labels": labels}, code="beyond_your_role")


def check_keeps_an_admin_after(role: CustomRole, codes: list[str]) -> None:
    """Refuse narrowing a custom role that grants everything when its members are the workspace's only active
    members holding every permission."""
    if set(codes) >= ALL or not grants_of(role) >= ALL:
        return
    if not holders(role.workspace_id, *ALL).exclude(custom_role=role).exists():
        raise Conflict(_("A workspace needs at least one active admin."), code="last_admin", field="permissions")


def do_create_role(actor: Membership | None, workspace: Workspace, *, name: str, description: str = "",
                   permissions: Iterable[str] = ()) -> CustomRole:
    codes = check_permission_codes(permissions)
    check_may_grant(actor, codes)
    role = CustomRole.objects.create(workspace=workspace, name=check_role_name(workspace.pk, name),
                                     description=(description or "").strip()[:MAX_DESCRIPTION], permissions=codes)
    record_change("role.created", role, {"name": role.name, "permissions": codes}, actor=actor)
    publish(RoleChanged(workspace_id=workspace.pk, role_id=role.pk, name=role.name, permissions=codes, created=True))
    return role


def do_update_role(actor: Membership | None, role: CustomRole, *, name: str | None = None,
                   description: str | None = None, permissions: Iterable[str] | None = None) -> CustomRole:
    """Change a custom role's name, description or permissions (the complete new set); its members hold the
    new set from their next request."""
    changes: dict[str, object] = {}
    if name is not None:
        name = check_role_name(role.workspace_id, name, role=role)
        if name != role.name:
            changes["name"] = role.name = name
    if description is not None:
        description = description.strip()[:MAX_DESCRIPTION]
        if description != role.description:
            changes["description"] = role.description = description
    if permissions is not None:
        codes = check_permission_codes(permissions)
        if codes != sorted(role.permissions or ()):
            check_may_grant(actor, set(codes) - set(role.permissions or ()))
            check_keeps_an_admin_after(role, codes)
            changes["permissions"] = codes
            changes["added"] = sorted(set(codes) - set(role.permissions or ()))
            changes["removed"] = sorted(set(role.permissions or ()) - set(codes))
            role.permissions = codes
    if changes:
        role.save(update_fields=[f for f in ("name", "description", "permissions") if f in changes] + ["updated_at"])
        record_change("role.updated", role, changes, actor=actor)
        publish(RoleChanged(workspace_id=role.workspace_id, role_id=role.pk, name=role.name,
                            permissions=list(role.permissions)))
    return role


def do_delete_role(actor: Membership | None, role: CustomRole) -> None:
    """Delete a custom role nobody holds (409 while a member, active or not, still has it)."""
    held = role.members.count()
    if held:
        raise Conflict(_("%(n)d members have this role; give them another role first.") % {"n": held},
                       code="role_in_use")
    record_change("role.deleted", role, {"name": role.name, "permissions": list(role.permissions or ())},
                  actor=actor)
    publish(RoleDeleted(workspace_id=role.workspace_id, role_id=role.pk, name=role.name))
    role.delete()


def check_assignment(actor: Membership, agent: Membership, role: str | CustomRole | None,
                     is_active: bool | None = None) -> None:
    """Before giving `agent` a role (a built-in role's name or a custom role) or changing its seat: the actor
    neither grants nor takes away more than their own role holds, and the workspace keeps an active member
    holding every permission."""
    if role is None and is_active is None:
        return
    if isinstance(role, CustomRole) and role.workspace_id != agent.workspace_id:
        raise ValidationFailed(_("No such role."), code="role_not_found", field="role_id")
    check_may_grant(actor, permissions_of(agent) | (grants_of(role) if role is not None else frozenset()))
    check_keeps_an_admin(actor, agent, role=role, is_active=is_active)
