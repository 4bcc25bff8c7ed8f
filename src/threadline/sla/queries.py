"""Reads for schedules, policies and timers; `access_*` are the permission-checked lookups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import holidays as holidays_lib
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.conversations.models import Conversation
from threadline.core.errors import NotFound
from threadline.sla import businesshours
from threadline.sla.models import BusinessSchedule, SlaPolicy, SlaTimer
from threadline.tenancy.models import Membership


def list_schedules(actor: Membership) -> QuerySet[BusinessSchedule]:
    return BusinessSchedule.objects.filter(workspace_id=actor.workspace_id)


def access_schedule(actor: Membership, schedule_id: int) -> BusinessSchedule:
    schedule = list_schedules(actor).filter(pk=schedule_id).first()
    if schedule is None:
        raise NotFound(_("No such schedule."), code="schedule_not_found")
    return schedule


def list_policies(actor: Membership) -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.filter(workspace_id=actor.workspace_id)


def access_policy(actor: Membership, policy_id: int) -> SlaPolicy:
    policy = list_policies(actor).filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(_("No such SLA policy."), code="policy_not_found")
    return policy


def timers_of(conversation: Conversation) -> QuerySet[SlaTimer]:
    """Every timer of a conversation, cancelled ones too (they explain a policy change), oldest first."""
    return SlaTimer.objects.filter(conversation=conversation).order_by("id")


def opening_preview(schedule: BusinessSchedule, at: dt.datetime) -> dict[str, Any]:
    """Whether the schedule is open at `at`, and when it next closes (open) or opens (closed)."""
    calendar = schedule.calendar()
    if businesshours.is_open(calendar, at):
        closes = next((b for _a, b in calendar.intervals_from(at)), None)
        return {"open": True, "closes_at": closes, "opens_at": None}
    return {"open": False, "closes_at": None, "opens_at": businesshours.next_open(calendar, at)}


def upcoming_holidays(schedule: BusinessSchedule, start: dt.date, *, days: int = 365,
                      limit: int = 10) -> list[dict[str, Any]]:
    """The closed days (custom ones and the country's public holidays) in the next `days`, soonest first."""
    end = start + dt.timedelta(days=days)
    found: dict[dt.date, dict[str, Any]] = {}
    if schedule.holiday_country:
        public = holidays_lib.country_holidays(schedule.holiday_country, subdiv=schedule.holiday_subdiv or None,
                                               years=range(start.year, end.year + 1))
        for day, name in public.items():
            if start <= day <= end:
                found[day] = {"date": day, "name": name, "public": True}
    for item in schedule.custom_holidays or []:
        day = dt.date.fromisoformat(item["date"])
        if start <= day <= end:
            found[day] = {"date": day, "name": item.get("name", ""), "public": False}
    return [found[day] for day in sorted(found)][:limit]
