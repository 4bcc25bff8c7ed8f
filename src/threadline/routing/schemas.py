"""Request and response shapes of /api/v1/routing."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from threadline.conversations.models import Priority
from threadline.core.schemas import Id
from threadline.routing.models import AgentProfile, Policy, Presence

Label = Field(max_length=64)


class AgentProfileOut(Schema):
    membership_id: int
    presence: Presence
    presence_changed_at: dt.datetime | None
    languages: list[str]
    skills: list[str]
    capacity: dict[str, int] = Field(description="Open conversations at once per class (chat, email)")
    last_assigned_at: dt.datetime | None

    @staticmethod
    def resolve_capacity(obj: AgentProfile) -> dict[str, int]:
        return {klass: obj.capacity_for(klass) for klass in ("chat", "email")}


class AgentProfilePatch(Schema):
    languages: list[str] | None = Field(None, max_length=50)
    skills: list[str] | None = Field(None, max_length=100)
    capacity: dict[Literal["chat", "email"], int] | None = None


class AgentPresenceIn(Schema):
    presence: Presence


class AgentPresenceOut(Schema):
    membership_id: int
    presence: Presence
    reassigned_conversation_ids: list[int] = Field(description="Open chats handed to others on going offline")


class TeamPolicyOut(Schema):
    team_id: int
    policy: Policy
    schedule_id: int | None
    overflow_team_id: int | None
    escalation_team_id: int | None
    required_skills: list[str]


class TeamPolicyPatch(Schema):
    policy: Policy | None = None
    schedule_id: Id | None = None
    overflow_team_id: Id | None = None
    escalation_team_id: Id | None = None
    required_skills: list[str] | None = Field(None, max_length=50)


class RoutingRuleConditions(Schema):
    languages: list[str] | None = Field(None, max_length=50)
    channel_kinds: list[str] | None = Field(None, max_length=50)
    priorities: list[Priority] | None = Field(None, max_length=10)
    brand_ids: list[Id] | None = Field(None, max_length=100)


class RoutingRuleIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    position: int = Field(0, ge=-10_000, le=10_000)
    is_active: bool = True
    conditions: RoutingRuleConditions = Field(default_factory=RoutingRuleConditions)
    team_ids: list[Id] = Field(min_length=1, max_length=20,
                               description="Candidate teams in order: the first one open now takes it")

    def fields(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["conditions"] = self.conditions.model_dump(mode="json", exclude_none=True)
        return data


class RoutingRuleOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    conditions: dict[str, Any]
    team_ids: list[int]


class RoutingDecisionOut(Schema):
    id: int
    conversation_id: int
    outcome: str
    team_id: int | None
    assignee_id: int | None
    reason: dict[str, Any]
    created_at: dt.datetime


class RoutingDecisionPage(Schema):
    items: list[RoutingDecisionOut]
    next_cursor: str | None
