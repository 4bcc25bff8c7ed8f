"""Scheduled email reports: the slot a schedule is due for, the period it covers, and the message (text and
HTML, in the recipient's language) with the overview's single figures (`alerts.METRICS`) for that period.
docs/analytics.md, Scheduled reports."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from threadline.analytics.alert_mail import figure
from threadline.analytics.alerts import METRICS
from threadline.analytics.metrics import Filters
from threadline.analytics.models import ReportSchedule
from threadline.core import mail
from threadline.tenancy.models import Workspace
from threadline.tenancy.permissions import Permission, holders

logger = logging.getLogger(__name__)
UNITS = {"count": "", "percent": " %", "minutes": " min"}


def current_slot(schedule: ReportSchedule, at: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The local date of the latest slot at or before `at`: today at `hour` (daily) or the latest `weekday` at
    `hour` (weekly)."""
    local = at.astimezone(zone)
    back = (local.weekday() - schedule.weekday) % 7 if schedule.frequency == ReportSchedule.Frequency.WEEKLY else 0
    day = local.date() - dt.timedelta(days=back)
    if back == 0 and local.hour < schedule.hour:
        day -= dt.timedelta(days=7 if schedule.frequency == ReportSchedule.Frequency.WEEKLY else 1)
    return day


def period(schedule: ReportSchedule, slot: dt.date) -> tuple[dt.date, dt.date]:
    """The local days a slot reports: the day before it (daily), the 7 days before it (weekly)."""
    days = 7 if schedule.frequency == ReportSchedule.Frequency.WEEKLY else 1
    return slot - dt.timedelta(days=days), slot - dt.timedelta(days=1)


def report_figures(schedule: ReportSchedule, slot: dt.date) -> list[tuple[str, Any]]:
    """(metric key, value) of every single figure over the slot's period (the backlog: now)."""
    start, end = period(schedule, slot)
    f = Filters(workspace_id=schedule.workspace_id, start=start, end=end, channel_id=schedule.channel_id,
                team_id=schedule.team_id)
    return [(key, metric.value(f)) for key, metric in METRICS.items()]


def render_report(schedule: ReportSchedule, workspace: Workspace, slot: dt.date,
                  values: list[tuple[str, Any]]) -> tuple[str, str, str]:
    """Subject, text and HTML in the active language."""
    start, end = period(schedule, slot)
    rows = [(str(METRICS[key].label), figure(value) + (UNITS[METRICS[key].unit] if value is not None else ""))
            for key, value in values]
    dates = start.isoformat() if start == end else f"{start.isoformat()} – {end.isoformat()}"
    context = {"name": schedule.name, "workspace": workspace.name, "dates": dates, "zone": workspace.time_zone,
               "rows": rows, "url": f"{settings.PUBLIC_URL}/app/reports?start={start}&end={end}",
               "language": translation.get_language(), "rtl": translation.get_language_bidi()}
    subject = _("%(name)s: %(workspace)s, %(dates)s") % context
    lines = [_("%(workspace)s, %(dates)s (%(zone)s)") % context, ""]
    lines += [f"{label}: {value}" for label, value in rows]
    lines += ["", _("Reports: %(url)s") % context]
    return subject, "\n".join(lines) + "\n", render_to_string("analytics/report_mail.html", context)


def mail_report(schedule_id: int, slot: dt.date) -> int:
    """Mail the report of `slot` to the schedule's recipients still holding analytics.view; how many the server
    accepted."""
    schedule = ReportSchedule.objects.filter(pk=schedule_id).first()
    if schedule is None or not schedule.recipient_ids:
        return 0
    workspace = Workspace.objects.get(pk=schedule.workspace_id)
    values = report_figures(schedule, slot)
    sent = 0
    for member in holders(schedule.workspace_id, Permission.ANALYTICS).filter(
            pk__in=schedule.recipient_ids).select_related("user").order_by("pk"):
        with translation.override(member.user.language or workspace.default_language):
            subject, text, html = render_report(schedule, workspace, slot, values)
        sent += mail.send(member.user.email, subject, text, html)
    logger.info("report %s for %s: %s message(s) accepted", schedule_id, slot, sent)
    return sent
