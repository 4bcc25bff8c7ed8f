"""Request and response shapes of /api/v1/agents, /api/v1/teams, /api/v1/tokens and /api/v1/roles."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import Field

from threadline.core.schemas import Id, Input
from threadline.tenancy.models import ApiToken, Invitation, Membership, Role, Team

MAX_MEMBERS = 1000
MAX_PERMISSIONS = 100
BuiltInRole = Literal["admin", "agent", "light_agent"]


class AgentOut(Schema):
    id: int
    email: str
    name: str
    role: str = Field(description="admin, agent, light_agent (reads and adds internal notes only), or custom")
    role_id: int | None = Field(description="The custom role's id when role is custom (see /roles)")
    role_name: str
    is_active: bool
    status: str = Field(description="active, invited (an invitation not used yet) or deactivated")
    team_ids: list[int]
    last_seen_at: dt.datetime | None = Field(description="Last request in this workspace (the app or the API), "
                                                         "to the minute")
    created_at: dt.datetime
    invitation_url: str | None = Field(None, description="Only in the answer to adding a person who was invited "
                                                         "and whose link could not be mailed: pass it on yourself")

    @staticmethod
    def resolve_email(obj: Membership) -> str:
        return obj.user.email

    @staticmethod
    def resolve_status(obj: Membership) -> str:
        from threadline.tenancy.queries import person_status

        return person_status(obj)

    @staticmethod
    def resolve_name(obj: Membership) -> str:
        return obj.user.name

    @staticmethod
    def resolve_role_id(obj: Membership) -> int | None:
        return obj.custom_role_id

    @staticmethod
    def resolve_team_ids(obj: Membership) -> list[int]:
        return sorted(team.pk for team in obj.teams.all())


class AgentPage(Schema):
    items: list[AgentOut]
    next_cursor: str | None


ROLE_ID = "A custom role's id (instead of `role`)"


class AgentIn(Input):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field("", max_length=200)
    role: BuiltInRole = "agent"
    role_id: Id | None = Field(None, description=ROLE_ID)


class AgentPatch(Input):
    role: BuiltInRole | None = None
    role_id: Id | None = Field(None, description=ROLE_ID)
    is_active: bool | None = None
    name: str | None = Field(None, max_length=200)


class AgentRoleIn(Input):
    """Exactly one of `role` (a built-in role) and `role_id` (a custom role)."""

    role: BuiltInRole | None = None
    role_id: Id | None = Field(None, description=ROLE_ID)


class PermissionOut(Schema):
    code: str
    label: str


class RoleOut(Schema):
    id: int | None = Field(description="A custom role's id; null for the built-in roles")
    key: str = Field(description="admin, agent, light_agent, or custom")
    name: str
    description: str
    built_in: bool = Field(description="Built-in roles can be neither changed nor deleted")
    permissions: list[str] = Field(description="Permission codes (see /roles/permissions)")
    member_count: int


class RoleIn(Input):
    name: str = Field(max_length=200)
    description: str = Field("", max_length=500)
    permissions: list[str] = Field(default_factory=list, max_length=MAX_PERMISSIONS,
                                   description="Permission codes (see /roles/permissions)")


class RolePatch(Input):
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=500)
    permissions: list[str] | None = Field(None, max_length=MAX_PERMISSIONS, description="The complete new set")


class TeamOut(Schema):
    id: int
    name: str
    member_ids: list[int]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_member_ids(obj: Team) -> list[int]:
        return sorted(member.pk for member in obj.members.all())


class TeamPage(Schema):
    items: list[TeamOut]
    next_cursor: str | None


class TeamIn(Input):
    name: str = Field(min_length=1, max_length=200)
    member_ids: list[Id] = Field(default_factory=list, max_length=MAX_MEMBERS)


class TeamPatch(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    member_ids: list[Id] | None = Field(None, max_length=MAX_MEMBERS, description="The complete new member list")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it (the rest is never stored)")
    agent_id: int
    email: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @staticmethod
    def resolve_agent_id(obj: ApiToken) -> int:
        return obj.membership_id

    @staticmethod
    def resolve_email(obj: ApiToken) -> str:
        return obj.membership.user.email


class TokenPage(Schema):
    items: list[TokenOut]
    next_cursor: str | None


class InvitationIn(Input):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field("", max_length=200, description="Used only for a person without an account yet")
    role: Role = Role.AGENT
    team_ids: list[Id] = Field(default_factory=list, max_length=MAX_MEMBERS)
    skills: list[str] | None = Field(None, max_length=100)
    capacity: dict[Literal["chat", "email"], int] | None = Field(
        None, description="Open conversations at once per class (chat, email); missing classes use the default")


class InvitationOut(Schema):
    id: int
    agent_id: int | None = Field(description="The seat the invitation activates (null once revoked)")
    email: str
    status: str = Field(description="pending, accepted, revoked or expired")
    expires_at: dt.datetime
    sent_at: dt.datetime | None = Field(description="When the link was last mailed; null when it was not")
    accepted_at: dt.datetime | None
    revoked_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_agent_id(obj: Invitation) -> int | None:
        return obj.membership_id

    @staticmethod
    def resolve_status(obj: Invitation) -> str:
        from threadline.core.time import now

        if obj.accepted_at:
            return "accepted"
        if obj.revoked_at:
            return "revoked"
        return "expired" if obj.expires_at <= now() else "pending"


class InvitationCreated(InvitationOut):
    url: str | None = Field(description="The one-time link, only when it could not be mailed (no mail server "
                                        "configured, or it failed): pass it on yourself. Shown only in this answer.")


class InvitationPage(Schema):
    items: list[InvitationOut]
    next_cursor: str | None
