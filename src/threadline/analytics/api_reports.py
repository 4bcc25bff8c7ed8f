"""/api/v1/analytics/reports: scheduled email reports. Members holding analytics.view list and read them;
admin.automations creates, changes, deletes and sends one now (a preview to its recipients)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from threadline.analytics.actions import (
    ScheduleConfig,
    access_report_schedule,
    do_create_report_schedule,
    do_delete_report_schedule,
    do_send_report_now,
    do_update_report_schedule,
)
from threadline.analytics.models import ReportSchedule
from threadline.analytics.report_mail import period
from threadline.analytics.schemas import ReportScheduleIn, ReportScheduleOut, ReportSentOut
from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.core.schemas import Id
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["analytics"])


def schedule_out(schedule: ReportSchedule) -> dict[str, Any]:
    return {"id": schedule.pk, "name": schedule.name, "frequency": schedule.frequency, "weekday": schedule.weekday,
            "hour": schedule.hour, "channel_id": schedule.channel_id, "team_id": schedule.team_id,
            "recipient_ids": list(schedule.recipient_ids), "enabled": schedule.enabled,
            "last_slot": schedule.last_slot, "last_sent_at": schedule.last_sent_at}


def config_of(payload: ReportScheduleIn) -> ScheduleConfig:
    return ScheduleConfig(**{**payload.dict(), "recipient_ids": tuple(payload.recipient_ids)})


@router.get("", response=responses(list[ReportScheduleOut]), summary="List the scheduled email reports")
def list_schedules(request: HttpRequest) -> list[dict[str, Any]]:
    agent = actor(request)
    require(agent, Permission.ANALYTICS)
    return [schedule_out(s) for s in ReportSchedule.objects.filter(workspace_id=agent.workspace_id).order_by("pk")]


@router.post("", response=responses(ReportScheduleOut, 201),
             summary="Schedule an email report (admin.automations); it first goes at its next slot")
def create_schedule(request: HttpRequest, payload: ReportScheduleIn) -> Status[Any]:
    agent = actor(request)
    with transaction.atomic():
        schedule = do_create_report_schedule(agent, config_of(payload))
    return Status(201, schedule_out(schedule))


@router.get("/{schedule_id}", response=responses(ReportScheduleOut), summary="Get a scheduled report")
def schedule_detail(request: HttpRequest, schedule_id: Id) -> dict[str, Any]:
    return schedule_out(access_report_schedule(actor(request), schedule_id))


@router.put("/{schedule_id}", response=responses(ReportScheduleOut),
            summary="Replace a scheduled report (admin.automations)")
def update_schedule(request: HttpRequest, schedule_id: Id, payload: ReportScheduleIn) -> dict[str, Any]:
    agent = actor(request)
    with transaction.atomic():
        schedule = do_update_report_schedule(
            agent, access_report_schedule(agent, schedule_id, Permission.ADMIN_AUTOMATIONS), config_of(payload))
    return schedule_out(schedule)


@router.delete("/{schedule_id}", response=responses(None, 204),
               summary="Delete a scheduled report (admin.automations)")
def delete_schedule(request: HttpRequest, schedule_id: Id) -> Status[None]:
    agent = actor(request)
    with transaction.atomic():
        do_delete_report_schedule(agent, access_report_schedule(agent, schedule_id, Permission.ADMIN_AUTOMATIONS))
    return Status(204, None)


@router.post("/{schedule_id}/send", response=responses(ReportSentOut, 202),
             summary="Mail the latest period's report to its recipients now (admin.automations)")
def send_schedule(request: HttpRequest, schedule_id: Id) -> Status[Any]:
    agent = actor(request)
    with transaction.atomic():
        schedule = access_report_schedule(agent, schedule_id, Permission.ADMIN_AUTOMATIONS)
        slot = do_send_report_now(agent, schedule)
    start, end = period(schedule, slot)
    return Status(202, {"slot": slot, "start": start, "end": end})
