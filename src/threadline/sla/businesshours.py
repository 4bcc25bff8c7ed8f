"""Business-time arithmetic: a weekly schedule in its own time zone, minus public and custom holidays.

Pure functions over a `Calendar`; no database access. Every input and output is an aware datetime, and all
arithmetic happens in UTC: opening hours are built as local wall-clock times with `zoneinfo` (so a 09:00
opening is 09:00 on both sides of a DST change) and converted to UTC before anything is added or
subtracted (Python subtracts two datetimes of one zone by wall clock, which is wrong across DST).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from django.utils.translation import gettext as _

from threadline.core.errors import ValidationFailed
from threadline.core.time import ensure_aware

UTC = dt.UTC
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
HORIZON_DAYS = 3 * 366  # a schedule with no opening in three years is treated as never open


def parse_clock(value: str) -> int:
    """'09:30' → minutes after midnight; '24:00' is the end of the day."""
    try:
        hours, minutes = value.split(":")
        total = int(hours) * 60 + int(minutes)
        if len(minutes) != 2 or not 0 <= int(minutes) < 60 or not 0 <= total <= MINUTES_PER_DAY:
            raise ValueError
    except (ValueError, AttributeError) as exc:
        raise ValidationFailed(
            _("%(value)s is not a time of day (HH:MM).") % {"value": value}, code="invalid_time", field="weekly"
        ) from exc
    return total


def check_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError) as exc:
        raise ValidationFailed(_("Unknown time zone %(zone)s.") % {"zone": name}, code="invalid_time_zone",
                               field="time_zone") from exc


def check_weekly(weekly: Mapping[str, Sequence[Sequence[str]]]) -> dict[str, list[list[str]]]:
    """Validate `{"sun": [["09:00", "17:00"]], ...}`: known day names, ordered non-overlapping ranges."""
    clean: dict[str, list[list[str]]] = {}
    for day, ranges in weekly.items():
        if day not in DAYS:
            raise ValidationFailed(_("Unknown day %(day)s; use mon … sun.") % {"day": day}, code="invalid_day",
                                   field="weekly")
        previous_end = -1
        clean[day] = []
        for pair in ranges:
            if len(pair) != 2:
                raise ValidationFailed(_("Each range is [start, end]."), code="invalid_range", field="weekly")
            start, end = parse_clock(pair[0]), parse_clock(pair[1])
            if start >= end or start < previous_end:
                raise ValidationFailed(_("Ranges must be ordered, non-empty and not overlap."),
                                       code="invalid_range", field="weekly")
            previous_end = end
            clean[day].append([pair[0], pair[1]])
    if not any(clean.values()):
        raise ValidationFailed(_("A schedule needs at least one opening range."), code="empty_schedule",
                               field="weekly")
    return clean


def check_country(country: str, subdiv: str = "") -> tuple[str, str]:
    country = (country or "").upper()
    if not country:
        return "", ""
    try:
        holidays_lib.country_holidays(country, subdiv=subdiv or None, years=2026)
    except (NotImplementedError, KeyError, ValueError, AttributeError, TypeError) as exc:
        raise ValidationFailed(_("No holiday calendar for %(c)s %(s)s.") % {"c": country, "s": subdiv},
                               code="invalid_holiday_country", field="holiday_country") from exc
    return country, subdiv


@functools.lru_cache(maxsize=512)
def public_holidays(country: str, subdiv: str, year: int) -> frozenset[dt.date]:
    """The public holidays of one country (and subdivision) in one year, from the `holidays` package."""
    if not country:
        return frozenset()
    return frozenset(holidays_lib.country_holidays(country, subdiv=subdiv or None, years=year).keys())


@dataclass(frozen=True)
class Calendar:
    """Opening hours: `weekly[weekday]` is a tuple of (start, end) minutes; Monday is weekday 0."""

    zone: ZoneInfo
    weekly: tuple[tuple[tuple[int, int], ...], ...]
    country: str = ""
    subdiv: str = ""
    closed_dates: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def build(cls, time_zone: str, weekly: Mapping[str, Sequence[Sequence[str]]], *, country: str = "",
              subdiv: str = "", closed_dates: Sequence[str | dt.date] = ()) -> Calendar:
        zone = check_zone(time_zone)
        days = tuple(
            tuple((parse_clock(a), parse_clock(b)) for a, b in weekly.get(name, ())) for name in DAYS
        )
        dates = frozenset(d if isinstance(d, dt.date) else dt.date.fromisoformat(d) for d in closed_dates)
        return cls(zone=zone, weekly=days, country=country, subdiv=subdiv, closed_dates=dates)

    def is_holiday(self, day: dt.date) -> bool:
        return day in self.closed_dates or day in public_holidays(self.country, self.subdiv, day.year)

    def local_moment(self, day: dt.date, minute: int) -> dt.datetime:
        """The UTC instant of a local wall-clock time (a time in a DST gap maps forward)."""
        if minute >= MINUTES_PER_DAY:
            day, minute = day + dt.timedelta(days=1), minute - MINUTES_PER_DAY
        local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=self.zone)
        return local.astimezone(UTC)

    def day_intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        if self.is_holiday(day):
            return []
        return [(self.local_moment(day, a), self.local_moment(day, b)) for a, b in self.weekly[day.weekday()]]

    def intervals_from(self, start: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Open intervals in UTC from `start` on (the first one clipped to start), in order."""
        start = ensure_aware(start).astimezone(UTC)
        day = start.astimezone(self.zone).date() - dt.timedelta(days=1)
        for _offset in range(HORIZON_DAYS):
            for a, b in self.day_intervals(day):
                if b <= start:
                    continue
                yield max(a, start), b
            day += dt.timedelta(days=1)


ALWAYS_OPEN: Calendar | None = None  # `None` as a calendar means 24/7: business time is wall time


def is_open(calendar: Calendar | None, at: dt.datetime) -> bool:
    if calendar is None:
        return True
    at = ensure_aware(at).astimezone(UTC)
    local_day = at.astimezone(calendar.zone).date()
    for day in (local_day - dt.timedelta(days=1), local_day):
        if any(a <= at < b for a, b in calendar.day_intervals(day)):
            return True
    return False


def next_open(calendar: Calendar | None, at: dt.datetime) -> dt.datetime | None:
    """The first open instant at or after `at`, or None when the schedule never opens again."""
    if calendar is None:
        return ensure_aware(at)
    return next((a for a, _b in calendar.intervals_from(at)), None)


def add_business_time(calendar: Calendar | None, start: dt.datetime, amount: dt.timedelta) -> dt.datetime | None:
    """The instant when `amount` of open time has passed since `start`; None if that never happens."""
    start = ensure_aware(start)
    if calendar is None:
        return start + amount
    if amount <= dt.timedelta(0):
        return start
    remaining = amount
    for a, b in calendar.intervals_from(start):
        span = b - a
        if remaining <= span:
            return a + remaining
        remaining -= span
    return None


def business_time_between(calendar: Calendar | None, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    """Open time between two instants (zero when b is not after a)."""
    a, b = ensure_aware(a).astimezone(UTC), ensure_aware(b).astimezone(UTC)
    if b <= a:
        return dt.timedelta(0)
    if calendar is None:
        return b - a
    total = dt.timedelta(0)
    for start, end in calendar.intervals_from(a):
        if start >= b:
            break
        total += min(end, b) - start
    return total
