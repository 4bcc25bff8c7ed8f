"""Alert metrics: the single figures a rule can watch, each in the unit its threshold is given in (a count, a
percent, minutes), and the figure of a rule now (`current_value`). docs/analytics.md, Alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from threadline.analytics import metrics, survey_metrics
from threadline.analytics.facts import local_day
from threadline.analytics.metrics import Filters
from threadline.analytics.models import AlertRule
from threadline.core.time import now


@dataclass(frozen=True)
class AlertMetric:
    label: Promise
    unit: str  # count, percent, minutes
    value: Callable[[Filters], float | None]


def _percent(fraction: float | None) -> float | None:
    return None if fraction is None else round(100 * fraction, 2)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 2)


def _sla(f: Filters, target: str) -> float | None:
    met = breached = 0
    for row in metrics.sla(f):
        met, breached = met + row[target]["met"], breached + row[target]["breached"]
    return _percent(metrics.rate(met, met + breached))


METRICS: dict[str, AlertMetric] = {
    "backlog": AlertMetric(gettext_lazy("Backlog (open conversations now)"), "count",
                           lambda f: float(metrics.backlog(f)["open"])),
    "new_conversations": AlertMetric(gettext_lazy("New conversations"), "count",
                                     lambda f: float(metrics.channel_switch(f)["conversations"])),
    "csat": AlertMetric(gettext_lazy("CSAT %"), "percent",
                        lambda f: _percent(survey_metrics.surveys(f)["csat"]["csat"])),
    "first_response_median": AlertMetric(gettext_lazy("First response time, median (minutes)"), "minutes",
                                         lambda f: _minutes(metrics.first_response(f)["median"])),
    "resolution_median": AlertMetric(gettext_lazy("Resolution time, median (minutes)"), "minutes",
                                     lambda f: _minutes(metrics.resolution(f)["median"])),
    "sla_first_response": AlertMetric(gettext_lazy("SLA attainment, first response %"), "percent",
                                      lambda f: _sla(f, "first_response")),
    "sla_resolution": AlertMetric(gettext_lazy("SLA attainment, resolution %"), "percent",
                                  lambda f: _sla(f, "resolution")),
    "reopen_rate": AlertMetric(gettext_lazy("Reopen rate %"), "percent",
                               lambda f: _percent(metrics.reopen_rate(f)["rate"])),
    "first_contact_resolution": AlertMetric(gettext_lazy("First-contact resolution %"), "percent",
                                            lambda f: _percent(metrics.first_contact_resolution(f)["rate"])),
}
COMPARISONS = {"above": gettext_lazy("above"), "below": gettext_lazy("below")}
MAX_WINDOW_DAYS = 90
MAX_WINDOW_HOURS = 168


def window(rule: AlertRule, zone: ZoneInfo, at: dt.datetime) -> tuple[dt.date, dt.date, dt.datetime | None]:
    """What a rule looks at: the conversations created today, in the last `window_days` local days ending
    today, or (`window_hours` > 0) in the last `window_hours` hours up to `at` — (first local day, today, the
    first instant or None)."""
    today = local_day(at, zone)
    if rule.window_hours:
        since = at - dt.timedelta(hours=rule.window_hours)
        return local_day(since, zone), today, since
    return today - dt.timedelta(days=rule.window_days - 1), today, None


def current_value(rule: AlertRule, zone: ZoneInfo, at: dt.datetime | None = None) -> float | None:
    start, end, since = window(rule, zone, at or now())
    f = Filters(workspace_id=rule.workspace_id, start=start, end=end, since=since, channel_id=rule.channel_id,
                team_id=rule.team_id)
    return METRICS[rule.metric].value(f)


def breached(rule: AlertRule, value: float | None) -> bool:
    """Whether the figure is past the threshold; no figure (nothing counted) never is."""
    if value is None:
        return False
    return value > rule.threshold if rule.comparison == "above" else value < rule.threshold
