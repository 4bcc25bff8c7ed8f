"""Request and response shapes of /api/v1/sla: schedules, policies, deadlines and a conversation's SLA."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import AwareDatetime, Field

from threadline.conversations.models import Priority
from threadline.core.schemas import Id

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Clock = Field(max_length=5)
Name = Field(min_length=1, max_length=200)


class ScheduleHolidayIn(Schema):
    date: dt.date
    name: str = Field("", max_length=200)


class ScheduleIn(Schema):
    name: str = Name
    time_zone: str = Field(max_length=64, examples=["Asia/Jerusalem"])
    weekly: dict[Day, list[tuple[str, str]]] = Field(
        description='Opening ranges per day, e.g. {"sun": [["09:00", "17:00"]]}; a missing day is closed',
        examples=[{"sun": [["09:00", "17:00"]], "mon": [["09:00", "17:00"]]}])
    holiday_country: str = Field("", max_length=3, description="ISO country whose public holidays close it")
    holiday_subdiv: str = Field("", max_length=10)
    custom_holidays: list[ScheduleHolidayIn] = Field(default_factory=list, max_length=500)
    brand_id: Id | None = Field(None, description="Make this the brand's default schedule")


class ScheduleOut(Schema):
    id: int
    name: str
    time_zone: str
    weekly: dict[str, list[list[str]]]
    holiday_country: str
    holiday_subdiv: str
    custom_holidays: list[dict[str, str]]
    brand_id: int | None


class ScheduleDeadlineQuery(Schema):
    start: AwareDatetime = Field(description="An aware moment (with its offset)")
    minutes: int = Field(ge=0, le=525_600, description="Business minutes to add")


class ScheduleDeadlineOut(Schema):
    due_at: dt.datetime | None
    open_at_start: bool
    next_open: dt.datetime | None


class SlaConditions(Schema):
    priorities: list[Priority] | None = Field(None, max_length=10)
    channel_kinds: list[str] | None = Field(None, max_length=50)
    brand_ids: list[Id] | None = Field(None, max_length=100)
    languages: list[str] | None = Field(None, max_length=50)
    team_ids: list[Id] | None = Field(None, max_length=100, description="The conversation's team is one of them")
    tags: list[str] | None = Field(None, max_length=50, description="The conversation has one of these tags")
    contact_attributes: dict[str, str | int | float | bool] | None = None


class SlaEscalationStep(Schema):
    type: Literal["notify", "reassign", "set_priority"]
    value: Priority | None = None


class SlaPolicyIn(Schema):
    name: str = Name
    position: int = Field(0, ge=-10_000, le=10_000)
    is_active: bool = True
    conditions: SlaConditions = Field(default_factory=SlaConditions)
    first_response_minutes: int | None = Field(None, ge=1, le=525_600)
    next_response_minutes: int | None = Field(None, ge=1, le=525_600)
    resolution_minutes: int | None = Field(None, ge=1, le=525_600)
    warn_before_minutes: int = Field(15, ge=0, le=525_600)
    schedule_id: Id | None = None
    escalation: list[SlaEscalationStep] = Field(default_factory=list, max_length=10)

    def fields(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["conditions"] = self.conditions.model_dump(mode="json", exclude_none=True)
        data["escalation"] = [step.model_dump(mode="json", exclude_none=True) for step in self.escalation]
        return data


class SlaPolicyOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    conditions: dict[str, Any]
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    warn_before_minutes: int
    schedule_id: int | None
    escalation: list[dict[str, Any]]


class SlaTimerOut(Schema):
    id: int
    metric: str
    state: str
    policy_id: int
    started_at: dt.datetime
    due_at: dt.datetime | None
    warned_at: dt.datetime | None
    breached_at: dt.datetime | None
    fulfilled_at: dt.datetime | None
    remaining_seconds: int | None


class ConversationSlaOut(Schema):
    conversation_id: int
    policy_id: int | None
    timers: list[SlaTimerOut]
