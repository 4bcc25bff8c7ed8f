"""Moments an agent picks in their own time zone (the active one): snooze and send-later presets, or a
local date-time from a `datetime-local` field."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from threadline.core.errors import ValidationFailed


def preset_times(moment: dt.datetime | None = None) -> dict[str, dt.datetime]:
    """Snooze and send-later presets in the agent's time zone (the active one): later today (in three hours,
    or 17:00 when that is further off), tomorrow 09:00, next Monday 09:00."""
    local = timezone.localtime(moment or timezone.now())
    tz = local.tzinfo

    def at(day: dt.date, hour: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour), tzinfo=tz)

    later = local + dt.timedelta(hours=3)
    five = at(local.date(), 17)
    if five > later and five.date() == local.date():
        later = five
    monday = local.date() + dt.timedelta(days=7 - local.weekday())
    return {"later_today": later.replace(second=0, microsecond=0), "tomorrow": at(local.date() + dt.timedelta(days=1), 9),
            "next_week": at(monday, 9)}


def moment_from(value: str, field: str) -> dt.datetime:
    """A preset name, or a local date-time in the agent's time zone (`2026-05-01T09:00`), or an ISO moment."""
    presets = preset_times()
    if value in presets:
        return presets[value]
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(_("Choose a time."), code="invalid_time", field=field) from exc
    if moment.tzinfo is None:
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment
