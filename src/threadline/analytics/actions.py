"""Analytics writes: alert rules (admins holding admin.automations create, change and delete them, audited) and
their evaluation by the scheduler (`do_evaluate_alert`: fire once on crossing, clear when back). The caller owns
the transaction; events are published and mail sent after commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from threadline.analytics.alerts import (
    COMPARISONS,
    MAX_WINDOW_DAYS,
    MAX_WINDOW_HOURS,
    METRICS,
    breached,
    current_value,
)
from threadline.analytics.events import AlertCleared, AlertFired
from threadline.analytics.facts import zone_of
from threadline.analytics.models import AlertRule, ReportSchedule
from threadline.audit.actions import record_change
from threadline.channels.models import Channel
from threadline.core.errors import NotFound, ValidationFailed
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.tenancy.models import Membership, Team
from threadline.tenancy.permissions import Permission, holders, require

CONFIG_FIELDS = ("name", "metric", "comparison", "threshold", "window_days", "window_hours", "channel_id",
                 "team_id", "recipient_ids", "enabled")
WATCHED_FIELDS = ("metric", "comparison", "threshold", "window_days", "window_hours", "channel_id", "team_id")


@dataclass(frozen=True)
class AlertConfig:
    name: str
    metric: str
    comparison: str
    threshold: float
    window_days: int = 1
    window_hours: int = 0  # > 0: the last N hours instead of days
    channel_id: int | None = None
    team_id: int | None = None
    recipient_ids: tuple[int, ...] = ()
    enabled: bool = True


def access_alert_rule(actor: Membership, rule_id: int, permission: str = Permission.ANALYTICS) -> AlertRule:
    require(actor, permission)
    rule = AlertRule.objects.filter(pk=rule_id, workspace_id=actor.workspace_id).first()
    if rule is None:
        raise NotFound(_("No such alert."), code="alert_not_found")
    return rule


def check_alert_rule(actor: Membership, config: AlertConfig) -> AlertConfig:
    name = config.name.strip()[:200]
    if not name:
        raise ValidationFailed(_("Give the alert a name."), code="invalid_name", field="name")
    if config.metric not in METRICS:
        raise ValidationFailed(_("Choose a metric from the list."), code="invalid_metric", field="metric")
    if config.comparison not in COMPARISONS:
        raise ValidationFailed(_("Choose above or below."), code="invalid_comparison", field="comparison")
    if not 1 <= config.window_days <= MAX_WINDOW_DAYS:
        raise ValidationFailed(_("The window is 1 (today) to %(days)d days.") % {"days": MAX_WINDOW_DAYS},
                               code="invalid_window", field="window_days")
    if not 0 <= config.window_hours <= MAX_WINDOW_HOURS:
        raise ValidationFailed(_("The window in hours is 1 to %(hours)d (0: use days).") % {"hours": MAX_WINDOW_HOURS},
                               code="invalid_window", field="window_hours")
    recipients = _check_scope(actor, config.channel_id, config.team_id, config.recipient_ids)
    return AlertConfig(name=name, metric=config.metric, comparison=config.comparison,
                       threshold=float(config.threshold),
                       window_days=1 if config.window_hours else config.window_days, window_hours=config.window_hours,
                       channel_id=config.channel_id, team_id=config.team_id, recipient_ids=recipients,
                       enabled=config.enabled)


def _fields(config: AlertConfig) -> dict[str, Any]:
    return {name: (list(getattr(config, name)) if name == "recipient_ids" else getattr(config, name))
            for name in CONFIG_FIELDS}


def do_create_alert_rule(actor: Membership, config: AlertConfig) -> AlertRule:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    rule = AlertRule.objects.create(workspace_id=actor.workspace_id, **_fields(check_alert_rule(actor, config)))
    record_change("alert.created", rule, _fields(config), actor=actor)
    return rule


def do_update_alert_rule(actor: Membership, rule: AlertRule, config: AlertConfig) -> AlertRule:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    fields = _fields(check_alert_rule(actor, config))
    changed = {name: value for name, value in fields.items() if getattr(rule, name) != value}
    for name, value in fields.items():
        setattr(rule, name, value)
    if any(name in changed for name in WATCHED_FIELDS) or not rule.enabled:
        # what it watches changed (or it is off): it starts clear and fires on the next crossing
        rule.state, rule.last_value, rule.checked_at = AlertRule.State.CLEAR, None, None
    rule.save()
    record_change("alert.updated", rule, changed, actor=actor)
    return rule


def do_delete_alert_rule(actor: Membership, rule: AlertRule) -> None:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    record_change("alert.deleted", rule, {"name": rule.name, "metric": rule.metric}, actor=actor)
    rule.delete()


def do_evaluate_alert(rule: AlertRule, value: float | None, at: dt.datetime) -> str | None:
    """Record the rule's figure; "fired" when it has just crossed, "cleared" when it is just back, else None.
    Firing publishes `alert.fired` (the recipients' live notice) and mails each recipient after commit."""
    past = breached(rule, value)
    outcome = None
    rule.last_value, rule.checked_at = value, at
    if past and rule.state == AlertRule.State.CLEAR:
        rule.state, rule.fired_at, outcome = AlertRule.State.FIRING, at, "fired"
    elif not past and rule.state == AlertRule.State.FIRING:
        rule.state, rule.cleared_at, outcome = AlertRule.State.CLEAR, at, "cleared"
    rule.save(update_fields=["state", "last_value", "checked_at", "fired_at", "cleared_at"])
    if outcome == "fired":
        publish(AlertFired(workspace_id=rule.workspace_id, rule_id=rule.pk, name=rule.name, metric=rule.metric,
                           comparison=rule.comparison, threshold=rule.threshold, value=value,
                           recipient_ids=list(rule.recipient_ids)))
        from threadline.analytics.alert_mail import mail_alert

        rule_id = rule.pk
        transaction.on_commit(lambda: mail_alert(rule_id))
    elif outcome == "cleared":
        publish(AlertCleared(workspace_id=rule.workspace_id, rule_id=rule.pk, name=rule.name, metric=rule.metric,
                             value=value))
    return outcome


def evaluate_alerts(at: dt.datetime | None = None) -> dict[str, int]:
    """Every enabled rule of every workspace, each in its own transaction (one failing rule never stops the
    others); answers how many fired and cleared."""
    at = at or now()
    counts = {"checked": 0, "fired": 0, "cleared": 0}
    zones: dict[int, Any] = {}
    for rule_id, workspace_id in AlertRule.objects.filter(enabled=True).values_list("pk", "workspace_id"):
        zone = zones.setdefault(workspace_id, zone_of(workspace_id))
        with transaction.atomic():
            rule = AlertRule.objects.select_for_update().filter(pk=rule_id, enabled=True).first()
            if rule is None:
                continue
            outcome = do_evaluate_alert(rule, current_value(rule, zone, at), at)
        counts["checked"] += 1
        if outcome:
            counts[outcome] += 1
    return counts


# ── scheduled reports ───────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class ScheduleConfig:
    name: str
    frequency: str = "weekly"
    weekday: int = 0
    hour: int = 8
    channel_id: int | None = None
    team_id: int | None = None
    recipient_ids: tuple[int, ...] = ()
    enabled: bool = True


SCHEDULE_FIELDS = ("name", "frequency", "weekday", "hour", "channel_id", "team_id", "recipient_ids", "enabled")


def access_report_schedule(actor: Membership, schedule_id: int,
                           permission: str = Permission.ANALYTICS) -> ReportSchedule:
    require(actor, permission)
    schedule = ReportSchedule.objects.filter(pk=schedule_id, workspace_id=actor.workspace_id).first()
    if schedule is None:
        raise NotFound(_("No such report schedule."), code="report_schedule_not_found")
    return schedule


def _check_scope(actor: Membership, channel_id: int | None, team_id: int | None,
                 recipient_ids: tuple[int, ...]) -> tuple[int, ...]:
    """The filters name this workspace's channel and team; the recipients hold analytics.view here."""
    if channel_id is not None and not Channel.objects.filter(pk=channel_id, workspace_id=actor.workspace_id).exists():
        raise NotFound(_("No such channel."), code="channel_not_found")
    if team_id is not None and not Team.objects.filter(pk=team_id, workspace_id=actor.workspace_id).exists():
        raise NotFound(_("No such team."), code="team_not_found")
    recipients = tuple(sorted(set(recipient_ids)))
    allowed = set(holders(actor.workspace_id, Permission.ANALYTICS).filter(pk__in=recipients)
                  .values_list("pk", flat=True))
    if set(recipients) - allowed:
        raise ValidationFailed(_("Recipients are active members who may see reports."), code="invalid_recipients",
                               field="recipient_ids")
    return recipients


def check_report_schedule(actor: Membership, config: ScheduleConfig) -> dict[str, Any]:
    name = config.name.strip()[:200]
    if not name:
        raise ValidationFailed(_("Give the report a name."), code="invalid_name", field="name")
    if config.frequency not in ReportSchedule.Frequency.values:
        raise ValidationFailed(_("Choose daily or weekly."), code="invalid_frequency", field="frequency")
    if not 0 <= config.weekday <= 6:
        raise ValidationFailed(_("The weekday is 0 (Monday) to 6 (Sunday)."), code="invalid_weekday",
                               field="weekday")
    if not 0 <= config.hour <= 23:
        raise ValidationFailed(_("The hour is 0 to 23."), code="invalid_hour", field="hour")
    recipients = _check_scope(actor, config.channel_id, config.team_id, config.recipient_ids)
    return {"name": name, "frequency": config.frequency, "weekday": config.weekday, "hour": config.hour,
            "channel_id": config.channel_id, "team_id": config.team_id, "recipient_ids": list(recipients),
            "enabled": config.enabled}


def _start_after_now(schedule: ReportSchedule) -> None:
    """A new or rescheduled report sends from its next slot on, not the one already past."""
    from threadline.analytics.report_mail import current_slot

    schedule.last_slot = current_slot(schedule, now(), zone_of(schedule.workspace_id))


def do_create_report_schedule(actor: Membership, config: ScheduleConfig) -> ReportSchedule:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    fields = check_report_schedule(actor, config)
    schedule = ReportSchedule(workspace_id=actor.workspace_id, **fields)
    _start_after_now(schedule)
    schedule.save()
    record_change("report_schedule.created", schedule, fields, actor=actor)
    return schedule


def do_update_report_schedule(actor: Membership, schedule: ReportSchedule, config: ScheduleConfig) -> ReportSchedule:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    fields = check_report_schedule(actor, config)
    changed = {name: value for name, value in fields.items() if getattr(schedule, name) != value}
    for name, value in fields.items():
        setattr(schedule, name, value)
    if {"frequency", "weekday", "hour"} & set(changed):
        _start_after_now(schedule)
    schedule.save()
    record_change("report_schedule.updated", schedule, changed, actor=actor)
    return schedule


def do_delete_report_schedule(actor: Membership, schedule: ReportSchedule) -> None:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    record_change("report_schedule.deleted", schedule, {"name": schedule.name}, actor=actor)
    schedule.delete()


def do_send_report_now(actor: Membership, schedule: ReportSchedule) -> dt.date:
    """Mail the report of the latest slot's period to its recipients now (a preview; the schedule is unchanged);
    answers that slot."""
    from threadline.analytics.report_mail import current_slot, mail_report

    require(actor, Permission.ADMIN_AUTOMATIONS)
    slot = current_slot(schedule, now(), zone_of(schedule.workspace_id))
    schedule_id = schedule.pk
    transaction.on_commit(lambda: mail_report(schedule_id, slot))
    return slot


def send_due_reports(at: dt.datetime | None = None) -> int:
    """Every enabled schedule whose latest slot is not sent yet: marked sent (under the row's lock, so each slot
    goes once whoever runs this) and mailed after commit; answers how many were due."""
    from threadline.analytics.report_mail import current_slot, mail_report

    at = at or now()
    due = 0
    for schedule_id, workspace_id in ReportSchedule.objects.filter(enabled=True).values_list("pk", "workspace_id"):
        with transaction.atomic():
            schedule = ReportSchedule.objects.select_for_update().filter(pk=schedule_id, enabled=True).first()
            if schedule is None:
                continue
            slot = current_slot(schedule, at, zone_of(workspace_id))
            if schedule.last_slot is not None and slot <= schedule.last_slot:
                continue
            schedule.last_slot, schedule.last_sent_at = slot, at
            schedule.save(update_fields=["last_slot", "last_sent_at"])
            transaction.on_commit(lambda pk=schedule.pk, day=slot: mail_report(pk, day))
        due += 1
    return due
