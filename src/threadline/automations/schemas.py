"""Request and response shapes of /api/v1/automations."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from threadline.automations.models import Automation
from threadline.core.schemas import Id

Op = Literal["eq", "ne", "in", "not_in", "contains", "contains_any", "gt", "gte", "lt", "lte", "is_set", "is_not_set"]
Scalar = str | int | float | bool | None


class AutomationConditionIn(Schema):
    field: str = Field(max_length=120, examples=["conversation.language", "message.text", "contact.attributes.plan"])
    op: Op
    value: Scalar | list[Scalar] = None
    schedule_id: Id | None = Field(None, description="For business_hours.open: which schedule")


class AutomationConditions(Schema):
    all: list[AutomationConditionIn] = Field(default_factory=list, max_length=50)
    any: list[AutomationConditionIn] = Field(default_factory=list, max_length=50)


class AutomationActionIn(Schema):
    """One action. Changes: set_status, set_priority (`value`), add_tags, remove_tags (`tags`), set_team
    (`team_id`), assign (`agent_id`), unassign. Others: route (let routing assign), send_reply (`template_id`,
    an automatic reply in the conversation's language), notify (`agent_ids`, `text`), webhook (`url`)."""

    type: Literal["set_status", "set_priority", "add_tags", "remove_tags", "set_team", "assign", "unassign", "route",
                  "send_reply", "notify", "webhook"]
    value: str | None = Field(None, max_length=32)
    tags: list[str] | None = Field(None, max_length=50)
    team_id: Id | None = None
    agent_id: Id | None = None
    agent_ids: list[Id] | None = Field(None, max_length=100)
    template_id: Id | None = None
    url: str | None = Field(None, max_length=2000)
    text: str | None = Field(None, max_length=1000)


class AutomationDefinition(Schema):
    kind: Automation.Kind = Automation.Kind.EVENT
    events: list[str] = Field(default_factory=list, max_length=20)
    conditions: AutomationConditions = Field(default_factory=AutomationConditions)
    actions: list[AutomationActionIn] = Field(min_length=1, max_length=20)

    def definition(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value if hasattr(self.kind, "value") else self.kind,
            "events": list(self.events),
            "conditions": {group: [c.model_dump(mode="json", exclude_none=True) for c in getattr(self.conditions, group)]
                           for group in ("all", "any") if getattr(self.conditions, group)},
            "actions": [a.model_dump(mode="json", exclude_none=True) for a in self.actions],
        }


class AutomationIn(AutomationDefinition):
    name: str = Field(min_length=1, max_length=200)
    position: int = Field(0, ge=-10_000, le=10_000)
    is_active: bool = True
    max_runs_per_day: int = Field(10, ge=1, le=1000)

    def fields(self) -> dict[str, Any]:
        return {**self.definition(), "name": self.name, "position": self.position, "is_active": self.is_active,
                "max_runs_per_day": self.max_runs_per_day}


class AutomationOut(Schema):
    id: int
    name: str
    kind: str
    position: int
    is_active: bool
    events: list[str]
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    max_runs_per_day: int


class AutomationPlannedOut(Schema):
    conversation_id: int
    subject: str
    actions: list[dict[str, Any]]


class AutomationDryRunOut(Schema):
    evaluated: int
    matched: int
    conversations: list[AutomationPlannedOut]


class AutomationRunOut(Schema):
    id: int
    automation_id: int | None
    conversation_id: int
    trigger: str
    depth: int
    outcome: str
    performed: list[str]
    error: str
    created_at: dt.datetime


class AutomationRunPage(Schema):
    items: list[AutomationRunOut]
    next_cursor: str | None


class AutomationRunQuery(Schema):
    conversation_id: Id | None = None
    automation_id: Id | None = None
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)
