"""Quiet hours: the part of the day no survey goes out (per workspace, in the contact's time zone when known,
else the workspace's). A survey due inside them waits until they end. Pure: given the hours and a moment."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Protocol


class QuietHours(Protocol):
    """Anything with quiet hours: the surveys' settings, the outreach settings."""

    quiet_start: dt.time | None
    quiet_end: dt.time | None


def zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name) if name else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def quiet_until(settings: QuietHours | None, zone_name: str, moment: dt.datetime) -> dt.datetime | None:
    """When the quiet hours around `moment` end (aware), or None when `moment` is outside them (or there are
    none). Hours may span midnight (21:00–08:00)."""
    if settings is None or settings.quiet_start is None or settings.quiet_end is None:
        return None
    start, end = settings.quiet_start, settings.quiet_end
    if start == end:
        return None
    tz = zone(zone_name)
    local = moment.astimezone(tz)
    at = local.time().replace(tzinfo=None)
    if start < end:
        if not start <= at < end:
            return None
        day = local.date()
    else:
        if end <= at < start:
            return None
        day = local.date() + dt.timedelta(days=1) if at >= start else local.date()
    return dt.datetime.combine(day, end, tzinfo=tz)
