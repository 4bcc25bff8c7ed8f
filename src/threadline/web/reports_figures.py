"""The single figures of /app/reports (the overview's metrics and the survey figures), each with its value in
the previous period of the same length and the change, formatted for people (docs/analytics.md, The reports
screen)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from threadline.analytics import metrics, survey_metrics
from threadline.analytics.metrics import Filters


def duration(seconds: int | float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 3600:
        minutes = round(seconds / 60)
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    if seconds < 86_400:
        hours = round(seconds / 3600, 1)
        return _("%(n)s hours") % {"n": f"{hours:g}"}
    days = round(seconds / 86_400, 1)
    return _("%(n)s days") % {"n": f"{days:g}"}


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


# How a figure's change reads: a duration, percentage points, or plain points.
def _duration_delta(delta: float) -> str:
    return duration(abs(delta))


def _points_delta(delta: float) -> str:
    return _("%(n)s pts") % {"n": f"{abs(delta) * 100:.1f}"}


def _plain_delta(delta: float) -> str:
    return f"{round(abs(delta), 2):g}"


@dataclasses.dataclass(frozen=True)
class Spec:
    key: str
    label: str
    value: Callable[[dict[str, Any]], float | None]
    show: Callable[[float | None], str]
    delta: Callable[[float], str]
    better: int  # +1 when higher is better, -1 when lower is, 0 when neither
    note: Callable[[dict[str, Any]], str] | None = None


def specs(days: int) -> list[Spec]:
    return [
        Spec("first_response_median", _("First response, median"), lambda o: o["first_response"]["median"], duration,
             _duration_delta, -1, lambda o: _("business hours: %(d)s") % {
                 "d": duration(o["first_response"]["business_median"])}),
        Spec("first_response_p90", _("First response, 90th percentile"), lambda o: o["first_response"]["p90"],
             duration, _duration_delta, -1),
        Spec("next_response_median", _("Next response, median"), lambda o: o["next_response"]["median"], duration,
             _duration_delta, -1),
        Spec("resolution_median", _("Resolution, median"), lambda o: o["resolution"]["median"], duration,
             _duration_delta, -1, lambda o: _("business hours: %(d)s") % {
                 "d": duration(o["resolution"]["business_median"])}),
        Spec("resolution_p90", _("Resolution, 90th percentile"), lambda o: o["resolution"]["p90"], duration,
             _duration_delta, -1),
        Spec("reopen_rate", _("Reopen rate"), lambda o: o["reopen"]["rate"], percent, _points_delta, -1),
        Spec("fcr_rate", _("First-contact resolution"), lambda o: o["first_contact_resolution"]["rate"], percent,
             _points_delta, 1),
        Spec("repeat_rate", _("Repeat contact within %(n)d days") % {"n": days}, lambda o: o["repeat_contact"]["rate"],
             percent, _points_delta, -1),
        Spec("switch_rate", _("Channel switch"), lambda o: o["channel_switch"]["rate"], percent, _points_delta, 0),
        Spec("explain_twice_rate", _("Explained twice within %(n)d days") % {"n": days},
             lambda o: o["explain_twice"]["rate"], percent, _points_delta, -1),
        Spec("bot_deflection", _("Bot deflection"), lambda o: o["bot"]["deflection_rate"], percent, _points_delta, 1,
             lambda o: _("handed over: %(p)s") % {"p": percent(o["bot"]["handoff_rate"])}),
        Spec("csat", _("CSAT (satisfied answers)"), lambda o: o["surveys"]["csat"]["csat"], percent, _points_delta, 1,
             lambda o: _response_note(o["surveys"]["csat"])),
        Spec("nps", _("NPS"), lambda o: o["surveys"]["nps"]["nps"], number, _plain_delta, 1,
             lambda o: _response_note(o["surveys"]["nps"])),
        Spec("ces", _("CES, average (1–7)"), lambda o: o["surveys"]["ces"]["average"], number, _plain_delta, 0,
             lambda o: _response_note(o["surveys"]["ces"])),
    ]


def _response_note(figure: dict[str, Any]) -> str:
    return _("%(responses)d of %(sent)d answered (%(rate)s)") % {
        "responses": figure["responses"], "sent": figure["sent"], "rate": percent(figure["response_rate"])}


def previous_period(f: Filters, today: dt.date) -> Filters | None:
    """The same number of days just before the range (a range without an end ends today); None without a
    start (every date has no previous period)."""
    if f.start is None:
        return None
    end = f.end or max(today, f.start)
    length = (end - f.start).days + 1
    return dataclasses.replace(f, start=f.start - dt.timedelta(days=length), end=f.start - dt.timedelta(days=1))


def overview_with_surveys(f: Filters, days: int) -> dict[str, Any]:
    return {**metrics.overview(f, days), "surveys": survey_metrics.surveys(f)}


def figures(now: dict[str, Any], before: dict[str, Any] | None, days: int) -> list[dict[str, Any]]:
    """Each figure: label, value, note, and (with a previous period) its value then and the change: direction
    (up, down, same), whether that is better or worse, and the size of the change."""
    rows = []
    for spec in specs(days):
        value = spec.value(now)
        row: dict[str, Any] = {"key": spec.key, "label": spec.label, "value": spec.show(value),
                               "raw": value, "note": spec.note(now) if spec.note else ""}
        if before is not None:
            old = spec.value(before)
            row["previous"] = spec.show(old)
            if value is not None and old is not None:
                change = value - old
                row["direction"] = "up" if change > 0 else "down" if change < 0 else "same"
                row["change"] = spec.delta(change)
                row["verdict"] = ("better" if change * spec.better > 0 else "worse" if change * spec.better < 0
                                  else "neutral")
        rows.append(row)
    return rows
