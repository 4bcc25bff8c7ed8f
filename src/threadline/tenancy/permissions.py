"""What a member of a workspace may do, as named permissions.

Every permission check in views, the API and actions goes through `require(actor, Permission.X)` or
`has_permission(actor, Permission.X)`; templates use the `can` filter (`web/templatetags/permissions.py`).
The three built-in roles grant the fixed sets in `GRANTS` (code, the same in every workspace); a custom role
(`tenancy.CustomRole`) stores the same codes as data. Callers never test a role's name: code that picks
people (routing, notifications) asks `holders(workspace_id, Permission.X)`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from threadline.core.errors import PermissionDenied
from threadline.tenancy.models import CustomRole, Membership, Role


class Permission(models.TextChoices):
    VIEW = "conversations.view", gettext_lazy("See conversations and contacts")
    CONTACTS_EDIT = "contacts.edit", gettext_lazy("Create, edit and delete contacts; record consent")
    REPLY = "conversations.reply", gettext_lazy("Reply to customers")
    NOTE = "conversations.note", gettext_lazy("Add internal notes")
    ASSIGN = "conversations.assign", gettext_lazy("Assign, update, merge and split conversations")
    MERGE = "contacts.merge", gettext_lazy("Merge and unmerge contacts")
    EXPORT = "privacy.export", gettext_lazy("Export a contact's data")
    ERASE = "privacy.erase", gettext_lazy("Erase a contact")
    REDACT = "privacy.redact", gettext_lazy("Redact messages")
    AUDIT = "audit.view", gettext_lazy("Read the audit log")
    ANALYTICS = "analytics.view", gettext_lazy("See reports and analytics, export their data")
    ADMIN_CHANNELS = "admin.channels", gettext_lazy("Set up channels")
    ADMIN_PEOPLE = "admin.people", gettext_lazy("Invite and manage people and roles")
    ADMIN_ROUTING = "admin.routing", gettext_lazy("Teams, skills, routing, business hours and SLA policies")
    ADMIN_AUTOMATIONS = "admin.automations", gettext_lazy("Automations, macros, canned replies, templates, tags and fields")
    ADMIN_WORKSPACE = "admin.workspace", gettext_lazy("Workspace settings, brands, API tokens and webhooks")
    ADMIN_SECURITY = "admin.security", gettext_lazy("Security: sign-in, single sign-on, retention and redaction")
    KNOWLEDGE_EDIT = "knowledge.edit", gettext_lazy("Write and edit knowledge base articles (drafts)")
    KNOWLEDGE_PUBLISH = "knowledge.publish", gettext_lazy("Publish articles; organise help centers, categories and sections")
    COMMUNITY_MODERATE = "community.moderate", gettext_lazy("Moderate the community forum and answer there as an agent")


_AGENT = {Permission.VIEW, Permission.CONTACTS_EDIT, Permission.REPLY, Permission.NOTE, Permission.ASSIGN,
          Permission.MERGE, Permission.REDACT, Permission.KNOWLEDGE_EDIT, Permission.COMMUNITY_MODERATE}
GRANTS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(Permission.values),
    Role.AGENT: frozenset(_AGENT),
    Role.LIGHT_AGENT: frozenset({Permission.VIEW, Permission.NOTE}),
}


ALL: frozenset[str] = frozenset(Permission.values)


def permissions_of(actor: Membership) -> frozenset[str]:
    """What `actor` may do: its built-in role's grants, or its custom role's codes (unknown codes ignored)."""
    if not actor.is_active:
        return frozenset()
    if actor.custom_role_id is not None:
        return frozenset(actor.custom_role.permissions or ()) & ALL
    return GRANTS.get(actor.role, frozenset())


def has_permission(actor: Membership, permission: str) -> bool:
    return permission in permissions_of(actor)


def require(actor: Membership, permission: str) -> None:
    if not has_permission(actor, permission):
        raise PermissionDenied(
            _("Your role does not allow this: %(permission)s.") % {"permission": Permission(permission).label},
            code="permission_denied",
        )


def grants_of(role: str | CustomRole) -> frozenset[str]:
    """What a role grants: a built-in role's name, or a custom role."""
    if isinstance(role, CustomRole):
        return frozenset(role.permissions or ()) & ALL
    return GRANTS.get(role, frozenset())


def holds_everything(actor: Membership) -> bool:
    """Whether `actor` holds every permission (what the built-in admin role grants): a workspace always keeps
    one such active member (`tenancy.roster.check_keeps_an_admin`)."""
    return permissions_of(actor) >= ALL


def holders_q(workspace_id: int, *permissions: str, prefix: str = "") -> Q:
    """A filter on memberships (or on rows pointing at one, through `prefix`, e.g. "membership__") that keeps
    the active members of the workspace whose role grants every one of `permissions`."""
    wanted = set(permissions)
    built_in = [role for role, grants in GRANTS.items() if wanted <= grants]
    custom = [role.pk for role in CustomRole.objects.filter(workspace_id=workspace_id).only("permissions")
              if wanted <= grants_of(role)]
    return Q(**{f"{prefix}workspace_id": workspace_id, f"{prefix}is_active": True}) & (
        Q(**{f"{prefix}custom_role__isnull": True, f"{prefix}role__in": built_in})
        | Q(**{f"{prefix}custom_role_id__in": custom})
    )


def holders(workspace_id: int, *permissions: str) -> QuerySet[Membership]:
    """The active members of the workspace whose role grants every one of `permissions`."""
    return Membership.objects.filter(holders_q(workspace_id, *permissions))
