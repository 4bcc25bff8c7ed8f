"""Aware time only: every datetime in Threadline carries its zone."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def ensure_aware(value: dt.datetime) -> dt.datetime:
    if timezone.is_naive(value):
        raise ValueError("naive datetime: Threadline only handles aware datetimes")
    return value
