from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class AgentCreated(DomainEvent):
    type = "agent.created"
    membership_id: int
    email: str
    role: str


@dataclass(frozen=True, kw_only=True)
class TeamChanged(DomainEvent):
    type = "team.changed"
    team_id: int
    name: str
    member_ids: list[int]


@dataclass(frozen=True, kw_only=True)
class AgentUpdated(DomainEvent):
    type = "agent.updated"
    membership_id: int
    changes: dict[str, object]


@dataclass(frozen=True, kw_only=True)
class TeamDeleted(DomainEvent):
    type = "team.deleted"
    team_id: int
    name: str
    conversation_ids: list[int]


@dataclass(frozen=True, kw_only=True)
class RoleChanged(DomainEvent):
    """A custom role was created or changed (`created` tells which); `permissions` is its new set of codes."""

    type = "role.changed"
    role_id: int
    name: str
    permissions: list[str]
    created: bool = False


@dataclass(frozen=True, kw_only=True)
class RoleDeleted(DomainEvent):
    type = "role.deleted"
    role_id: int
    name: str
