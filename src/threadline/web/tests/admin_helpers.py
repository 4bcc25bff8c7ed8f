"""Shared set-up for the administration screens' tests: the members of one workspace by role, and the audit
entries a screen's write left."""

from __future__ import annotations

from threadline.audit.models import AuditEntry
from threadline.tenancy.models import Membership, Role
from threadline.testing import factories


def members(admin: Membership) -> dict[str, Membership]:
    """The admin, an agent and a light agent of the admin's workspace."""
    return {"admin": admin, "agent": factories.make_agent(admin, "agent@example.com", role=Role.AGENT),
            "light": factories.make_agent(admin, "light@example.com", role=Role.LIGHT_AGENT)}


def audited(workspace_id: int, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(workspace_id=workspace_id, action=action).order_by("id"))


def signed_in(client, membership: Membership):
    client.force_login(membership.user)
    return client
