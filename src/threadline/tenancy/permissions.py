"""What a member of a workspace may do, as named permissions.

Every permission check in views, the API and actions goes through `require(actor, Permission.X)` or
`has_permission(actor, Permission.X)`. Today the three built-in roles grant fixed sets (`GRANTS`); custom
roles store the same codes as data, so callers never test a role's name.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from threadline.core.errors import PermissionDenied
from threadline.tenancy.models import Membership, Role


class Permission(models.TextChoices):
    VIEW = "conversations.view", gettext_lazy("See conversations and contacts")
    REPLY = "conversations.reply", gettext_lazy("Reply to customers")
    NOTE = "conversations.note", gettext_lazy("Add internal notes")
    ASSIGN = "conversations.assign", gettext_lazy("Assign, update, merge and split conversations")
    MERGE = "contacts.merge", gettext_lazy("Merge and unmerge contacts")
    EXPORT = "privacy.export", gettext_lazy("Export a contact's data")
    ERASE = "privacy.erase", gettext_lazy("Erase a contact")
    REDACT = "privacy.redact", gettext_lazy("Redact messages")
    AUDIT = "audit.view", gettext_lazy("Read the audit log")
    ADMIN_CHANNELS = "admin.channels", gettext_lazy("Set up channels")
    ADMIN_PEOPLE = "admin.people", gettext_lazy("Invite and manage people and roles")
    ADMIN_ROUTING = "admin.routing", gettext_lazy("Teams, skills, routing, business hours and SLA policies")
    ADMIN_AUTOMATIONS = "admin.automations", gettext_lazy("Automations, macros, canned replies, templates, tags and fields")
    ADMIN_WORKSPACE = "admin.workspace", gettext_lazy("Workspace settings, brands, API tokens and webhooks")
    ADMIN_SECURITY = "admin.security", gettext_lazy("Security: sign-in, single sign-on, retention and redaction")


_AGENT = {Permission.VIEW, Permission.REPLY, Permission.NOTE, Permission.ASSIGN, Permission.MERGE,
          Permission.REDACT}
GRANTS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(Permission.values),
    Role.AGENT: frozenset(_AGENT),
    Role.LIGHT_AGENT: frozenset({Permission.VIEW, Permission.NOTE}),
}


def permissions_of(actor: Membership) -> frozenset[str]:
    if not actor.is_active:
        return frozenset()
    return GRANTS.get(actor.role, frozenset())


def has_permission(actor: Membership, permission: str) -> bool:
    return permission in permissions_of(actor)


def require(actor: Membership, permission: str) -> None:
    if not has_permission(actor, permission):
        raise PermissionDenied(
            _("Your role does not allow this: %(permission)s.") % {"permission": Permission(permission).label},
            code="permission_denied",
        )
