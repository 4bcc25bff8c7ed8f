"""The "Alerts" screen (/app/reports/alerts): members who may see reports (analytics.view) see every alert rule,
its state, last figure and when it fired (in the workspace's time zone), and the scheduled email reports; admins
holding admin.automations add, switch on or off and delete rules, and add, send now and delete scheduled reports.
Writes are the analytics domain's actions (docs/analytics.md, Alerts and Scheduled reports)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from threadline.analytics.actions import (
    AlertConfig,
    ScheduleConfig,
    access_alert_rule,
    access_report_schedule,
    do_create_alert_rule,
    do_create_report_schedule,
    do_delete_alert_rule,
    do_delete_report_schedule,
    do_send_report_now,
    do_update_alert_rule,
)
from threadline.analytics.alert_mail import figure
from threadline.analytics.alerts import COMPARISONS, METRICS
from threadline.analytics.models import AlertRule, ReportSchedule
from threadline.channels.models import Channel
from threadline.core.errors import ValidationFailed
from threadline.tenancy.models import Team
from threadline.tenancy.permissions import Permission, has_permission, holders, require
from threadline.web.admin_forms import checked, submit
from threadline.web.session import agent_view

URL = "/app/reports/alerts"
WEEKDAYS = (gettext_lazy("Monday"), gettext_lazy("Tuesday"), gettext_lazy("Wednesday"), gettext_lazy("Thursday"),
            gettext_lazy("Friday"), gettext_lazy("Saturday"), gettext_lazy("Sunday"))


def _page(request: HttpRequest, *, error: Exception | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.ANALYTICS)
    zone = ZoneInfo(agent.workspace.time_zone or "UTC")
    channels = dict(Channel.objects.filter(workspace_id=agent.workspace_id).values_list("pk", "name"))
    teams = dict(Team.objects.filter(workspace_id=agent.workspace_id).values_list("pk", "name"))
    people = {m.pk: m for m in holders(agent.workspace_id, Permission.ANALYTICS).select_related("user").order_by("pk")}
    rows = [{"rule": rule, "metric": METRICS[rule.metric].label, "comparison": COMPARISONS[rule.comparison],
             "threshold": figure(rule.threshold), "value": figure(rule.last_value),
             "fired_at": rule.fired_at.astimezone(zone) if rule.fired_at else None,
             "channel": channels.get(rule.channel_id), "team": teams.get(rule.team_id),
             "recipients": [people[pk] for pk in rule.recipient_ids if pk in people]}
            for rule in AlertRule.objects.filter(workspace_id=agent.workspace_id).order_by("pk")]
    context: dict[str, Any] = {
        "agent": agent, "rows": rows, "zone": str(zone), "can_edit": has_permission(agent, Permission.ADMIN_AUTOMATIONS),
        "metrics": [(key, m.label) for key, m in METRICS.items()], "comparisons": list(COMPARISONS.items()),
        "channels": sorted(channels.items(), key=lambda item: item[1]),
        "teams": sorted(teams.items(), key=lambda item: item[1]), "people": list(people.values()),
        "schedules": [{"schedule": schedule, "recipients": [people[pk] for pk in schedule.recipient_ids if pk in people]}
                      for schedule in ReportSchedule.objects.filter(workspace_id=agent.workspace_id).order_by("pk")],
        "weekdays": list(enumerate(WEEKDAYS)), "hours": range(24),
        "message": " ".join(str(note.message) for note in messages.get_messages(request)),
        "form": request.POST if error is not None else {},
    }
    if error is not None:
        context["error"] = getattr(error, "message", str(error))
    return render(request, "web/report_alerts.html", context, status=getattr(error, "status", 400) if error else 200)


def _number(data: QueryDict, name: str, kind: type, default: str = "") -> Any:
    try:
        return kind((data.get(name) or default).strip())
    except ValueError as exc:
        raise ValidationFailed(_("Give a number."), code=f"invalid_{name}", field=name) from exc


def _optional_id(data: QueryDict, name: str) -> int | None:
    return _number(data, name, int) if (data.get(name) or "").strip() else None


def _recipients(data: QueryDict) -> tuple[int, ...]:
    return tuple(int(v) for v in data.getlist("recipient_ids") if v.isdigit())


def _config(data: QueryDict) -> AlertConfig:
    return AlertConfig(name=data.get("name", ""), metric=data.get("metric", ""),
                       comparison=data.get("comparison", ""), threshold=_number(data, "threshold", float),
                       window_days=_number(data, "window_days", int, "1"),
                       window_hours=_number(data, "window_hours", int, "0"),
                       channel_id=_optional_id(data, "channel_id"), team_id=_optional_id(data, "team_id"),
                       recipient_ids=_recipients(data), enabled=checked(data, "enabled"))


@require_GET
@agent_view
def alerts_view(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@agent_view
def alert_create_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.ADMIN_AUTOMATIONS)
    return submit(request, lambda: do_create_alert_rule(agent, _config(request.POST)), _("Alert added."), URL,
                  lambda exc: _page(request, error=exc))


@require_POST
@agent_view
def alert_toggle_view(request: HttpRequest, rule_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    rule = access_alert_rule(agent, rule_id, Permission.ADMIN_AUTOMATIONS)

    def toggle() -> None:
        config = AlertConfig(name=rule.name, metric=rule.metric, comparison=rule.comparison,
                             threshold=rule.threshold, window_days=rule.window_days,
                             window_hours=rule.window_hours, channel_id=rule.channel_id,
                             team_id=rule.team_id, recipient_ids=tuple(rule.recipient_ids), enabled=not rule.enabled)
        do_update_alert_rule(agent, rule, config)

    return submit(request, toggle, _("Alert switched off.") if rule.enabled else _("Alert switched on."), URL,
                  lambda exc: _page(request, error=exc))


@require_POST
@agent_view
def alert_delete_view(request: HttpRequest, rule_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    rule = access_alert_rule(agent, rule_id, Permission.ADMIN_AUTOMATIONS)
    return submit(request, lambda: do_delete_alert_rule(agent, rule), _("Alert deleted."), URL,
                  lambda exc: _page(request, error=exc))


@require_POST
@agent_view
def schedule_create_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.ADMIN_AUTOMATIONS)
    data = request.POST
    return submit(request, lambda: do_create_report_schedule(agent, ScheduleConfig(
        name=data.get("name", ""), frequency=data.get("frequency", ""), weekday=_number(data, "weekday", int, "0"),
        hour=_number(data, "hour", int, "8"), channel_id=_optional_id(data, "channel_id"),
        team_id=_optional_id(data, "team_id"), recipient_ids=_recipients(data), enabled=True)),
        _("Report scheduled."), URL, lambda exc: _page(request, error=exc))


@require_POST
@agent_view
def schedule_send_view(request: HttpRequest, schedule_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    schedule = access_report_schedule(agent, schedule_id, Permission.ADMIN_AUTOMATIONS)
    return submit(request, lambda: do_send_report_now(agent, schedule), _("Report sent to its recipients."), URL,
                  lambda exc: _page(request, error=exc))


@require_POST
@agent_view
def schedule_delete_view(request: HttpRequest, schedule_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    schedule = access_report_schedule(agent, schedule_id, Permission.ADMIN_AUTOMATIONS)
    return submit(request, lambda: do_delete_report_schedule(agent, schedule), _("Scheduled report deleted."), URL,
                  lambda exc: _page(request, error=exc))
