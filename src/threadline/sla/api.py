"""/api/v1/sla: business-hour schedules, SLA policies, deadlines, and the SLA state of a conversation.

Everyone in the workspace reads; only admins change schedules and policies.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.conversations.queries import access_conversation
from threadline.core.schemas import Id
from threadline.sla import businesshours
from threadline.sla.actions import do_delete_policy, do_delete_schedule, do_save_policy, do_save_schedule
from threadline.sla.queries import access_policy, access_schedule, list_policies, list_schedules, timers_of
from threadline.sla.schemas import (
    ConversationSlaOut,
    ScheduleDeadlineOut,
    ScheduleDeadlineQuery,
    ScheduleIn,
    ScheduleOut,
    SlaPolicyIn,
    SlaPolicyOut,
)
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["sla"])


def _schedule_fields(payload: ScheduleIn) -> dict[str, Any]:
    data = payload.model_dump(mode="json")
    data["weekly"] = {day: [list(pair) for pair in ranges] for day, ranges in payload.weekly.items()}
    return data


@router.get("/schedules", response=responses(list[ScheduleOut]), summary="List business-hour schedules")
def schedules(request: HttpRequest) -> Any:
    return list(list_schedules(actor(request)).order_by("id")[:500])


@router.post("/schedules", response=responses(ScheduleOut, 201), summary="Create a schedule (admins)")
def create_schedule(request: HttpRequest, payload: ScheduleIn) -> tuple[int, Any]:
    agent = actor(request)
    require(agent, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        schedule = do_save_schedule(agent.workspace, None, **_schedule_fields(payload))
    return Status(201, schedule)


@router.get("/schedules/{schedule_id}", response=responses(ScheduleOut), summary="Get a schedule")
def schedule(request: HttpRequest, schedule_id: Id) -> Any:
    return access_schedule(actor(request), schedule_id)


@router.put("/schedules/{schedule_id}", response=responses(ScheduleOut), summary="Replace a schedule (admins)")
def replace_schedule(request: HttpRequest, schedule_id: Id, payload: ScheduleIn) -> Any:
    agent = actor(request)
    require(agent, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        return do_save_schedule(agent.workspace, access_schedule(agent, schedule_id), **_schedule_fields(payload))


@router.delete("/schedules/{schedule_id}", response=responses(None, 204), summary="Delete a schedule (admins)")
def delete_schedule(request: HttpRequest, schedule_id: Id) -> tuple[int, None]:
    agent = actor(request)
    require(agent, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        do_delete_schedule(access_schedule(agent, schedule_id))
    return Status(204, None)


@router.get("/schedules/{schedule_id}/deadline", response=responses(ScheduleDeadlineOut),
            summary="When N business minutes after a moment fall in this schedule")
def deadline(request: HttpRequest, schedule_id: Id, query: Query[ScheduleDeadlineQuery]) -> dict[str, Any]:
    calendar = access_schedule(actor(request), schedule_id).calendar()
    start = query.start
    return {
        "due_at": businesshours.add_business_time(calendar, start, dt.timedelta(minutes=query.minutes)),
        "open_at_start": businesshours.is_open(calendar, start),
        "next_open": businesshours.next_open(calendar, start),
    }


@router.get("/policies", response=responses(list[SlaPolicyOut]), summary="List SLA policies, in the order they apply")
def policies(request: HttpRequest) -> Any:
    return list(list_policies(actor(request)).order_by("position", "id")[:500])


@router.post("/policies", response=responses(SlaPolicyOut, 201), summary="Create an SLA policy (admins)")
def create_policy(request: HttpRequest, payload: SlaPolicyIn) -> tuple[int, Any]:
    agent = actor(request)
    require(agent, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        return Status(201, do_save_policy(agent.workspace, None, **payload.fields()))


@router.get("/policies/{policy_id}", response=responses(SlaPolicyOut), summary="Get an SLA policy")
def policy(request: HttpRequest, policy_id: Id) -> Any:
    return access_policy(actor(request), policy_id)


@router.put("/policies/{policy_id}", response=responses(SlaPolicyOut), summary="Replace an SLA policy (admins)")
def replace_policy(request: HttpRequest, policy_id: Id, payload: SlaPolicyIn) -> Any:
    agent = actor(request)
    require(agent, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        return do_save_policy(agent.workspace, access_policy(agent, policy_id), **payload.fields())


@router.delete("/policies/{policy_id}", response=responses(None, 204), summary="Delete an SLA policy (admins)")
def delete_policy(request: HttpRequest, policy_id: Id) -> tuple[int, None]:
    agent = actor(request)
    require(agent, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        do_delete_policy(access_policy(agent, policy_id))
    return Status(204, None)


@router.get("/conversations/{conversation_id}", response=responses(ConversationSlaOut),
            summary="A conversation's SLA: its policy and every timer with its business-time deadline")
def conversation_sla(request: HttpRequest, conversation_id: Id) -> dict[str, Any]:
    conversation = access_conversation(actor(request), conversation_id)
    timers = list(timers_of(conversation))
    live = [t for t in timers if t.state != "cancelled"]
    return {"conversation_id": conversation.pk, "policy_id": live[-1].policy_id if live else None, "timers": timers}
