"""Business-time arithmetic across DST changes, weekends and public holidays in five time zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threadline.core.errors import ValidationFailed
from threadline.sla.businesshours import (
    Calendar,
    add_business_time,
    business_time_between,
    check_weekly,
    is_open,
    next_open,
)

NINE_TO_FIVE = [["09:00", "17:00"]]
SUN_THU = {day: NINE_TO_FIVE for day in ("sun", "mon", "tue", "wed", "thu")}
MON_FRI = {day: NINE_TO_FIVE for day in ("mon", "tue", "wed", "thu", "fri")}
SAT_WED_TEHRAN = {**{day: [["08:00", "16:00"]] for day in ("sat", "sun", "mon", "tue", "wed")},
                  "thu": [["08:00", "12:00"]]}

JERUSALEM = Calendar.build("Asia/Jerusalem", SUN_THU, country="IL")
TEHRAN = Calendar.build("Asia/Tehran", SAT_WED_TEHRAN, country="IR")
BANGKOK = Calendar.build("Asia/Bangkok", {d: [["09:00", "18:00"]] for d in MON_FRI}, country="TH")
PRAGUE = Calendar.build("Europe/Prague", MON_FRI, country="CZ")
NEW_YORK = Calendar.build("America/New_York", MON_FRI, country="US")


def local(zone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


def test_jerusalem_thursday_evening_is_answered_sunday_morning_after_the_dst_change():
    opened = local("Asia/Jerusalem", 2026, 3, 26, 19, 0)  # Thursday, +02:00; DST starts Friday 27 March
    due = add_business_time(JERUSALEM, opened, hours(1))
    assert due == local("Asia/Jerusalem", 2026, 3, 29, 10, 0)
    assert due.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 7, 0, tzinfo=dt.UTC)  # +03:00 now
    assert due.astimezone(ZoneInfo("Asia/Jerusalem")).strftime("%A %H:%M") == "Sunday 10:00"


def test_jerusalem_passover_is_skipped():
    start = local("Asia/Jerusalem", 2026, 4, 1, 16, 30)  # Wednesday; Thursday 2 April is Pesach
    assert add_business_time(JERUSALEM, start, hours(2)) == local("Asia/Jerusalem", 2026, 4, 5, 10, 30)
    assert not is_open(JERUSALEM, local("Asia/Jerusalem", 2026, 4, 2, 11, 0))


def test_tehran_nowruz_and_the_thursday_half_day():
    start = local("Asia/Tehran", 2026, 3, 19, 11, 0)  # Thursday, open until 12:00; Nowruz 20-24 March
    due = add_business_time(TEHRAN, start, hours(3))
    assert due == local("Asia/Tehran", 2026, 3, 25, 10, 0)
    assert due.astimezone(ZoneInfo("Asia/Tehran")).utcoffset() == dt.timedelta(hours=3, minutes=30)  # no DST
    assert not is_open(TEHRAN, local("Asia/Tehran", 2026, 3, 22, 9, 0))  # a Sunday, but Nowruz


def test_bangkok_songkran_is_skipped():
    start = local("Asia/Bangkok", 2026, 4, 10, 17, 0)  # Friday; Songkran is Monday-Wednesday 13-15 April
    assert add_business_time(BANGKOK, start, hours(2)) == local("Asia/Bangkok", 2026, 4, 16, 10, 0)


def test_prague_autumn_dst_weekend_counts_only_open_hours():
    friday = local("Europe/Prague", 2026, 10, 23, 16, 0)  # +02:00; clocks go back on Sunday 25 October
    due = add_business_time(PRAGUE, friday, hours(2))
    assert due == local("Europe/Prague", 2026, 10, 26, 10, 0)
    assert due.astimezone(dt.UTC) == dt.datetime(2026, 10, 26, 9, 0, tzinfo=dt.UTC)  # +01:00 now
    assert business_time_between(PRAGUE, friday, due) == hours(2)
    assert due.astimezone(dt.UTC) - friday.astimezone(dt.UTC) == hours(67)  # the wall clock gained an hour


def test_prague_christmas():
    start = local("Europe/Prague", 2026, 12, 23, 16, 0)
    assert add_business_time(PRAGUE, start, hours(2)) == local("Europe/Prague", 2026, 12, 28, 10, 0)


def test_new_york_spring_forward_weekend_and_thanksgiving():
    friday = local("America/New_York", 2026, 3, 6, 16, 30)  # EST; DST starts Sunday 8 March
    due = add_business_time(NEW_YORK, friday, hours(1))
    assert due.astimezone(dt.UTC) == dt.datetime(2026, 3, 9, 13, 30, tzinfo=dt.UTC)  # 09:30 EDT
    wednesday = local("America/New_York", 2026, 11, 25, 16, 0)
    assert add_business_time(NEW_YORK, wednesday, hours(2)) == local("America/New_York", 2026, 11, 27, 10, 0)


def test_a_whole_day_on_the_spring_forward_sunday_has_23_hours():
    always = Calendar.build("Europe/Prague", {"sun": [["00:00", "24:00"]]})
    sunday = local("Europe/Prague", 2026, 3, 29, 0, 0)
    monday = local("Europe/Prague", 2026, 3, 30, 0, 0)
    assert business_time_between(always, sunday, monday) == hours(23)


def test_custom_closed_dates_and_next_open():
    calendar = Calendar.build("Asia/Jerusalem", SUN_THU, closed_dates=["2026-03-29"])
    opened = local("Asia/Jerusalem", 2026, 3, 26, 19, 0)
    assert next_open(calendar, opened) == local("Asia/Jerusalem", 2026, 3, 30, 9, 0)
    assert add_business_time(None, opened, hours(1)) == opened + hours(1)  # no schedule: 24/7


def test_invalid_schedules_are_refused():
    with pytest.raises(ValidationFailed):
        check_weekly({"mon": [["17:00", "09:00"]]})
    with pytest.raises(ValidationFailed):
        check_weekly({"funday": NINE_TO_FIVE})
    with pytest.raises(ValidationFailed):
        check_weekly({"mon": [["09:00", "25:00"]]})
    with pytest.raises(ValidationFailed):
        check_weekly({})


@settings(max_examples=60, deadline=None)
@given(
    calendar=st.sampled_from([JERUSALEM, TEHRAN, BANGKOK, PRAGUE, NEW_YORK]),
    start=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31),  # noqa: DTZ001 - hypothesis wants naive bounds
                       timezones=st.just(dt.UTC)),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 20),
)
def test_adding_then_measuring_business_time_round_trips(calendar, start, minutes):
    amount = dt.timedelta(minutes=minutes)
    due = add_business_time(calendar, start, amount)
    assert due is not None and due >= start
    assert business_time_between(calendar, start, due) == amount
    if minutes:
        assert is_open(calendar, due - dt.timedelta(seconds=1))
