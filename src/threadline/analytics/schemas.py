"""Query shapes of /api/v1/analytics (the answers are the metrics' own dictionaries, docs/analytics.md)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from ninja import Schema
from pydantic import Field

from threadline.core.schemas import DEFAULT_LIMIT, MAX_LIMIT, Id


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


class Bucket(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"


class MetricName(StrEnum):
    OVERVIEW = "overview"
    VOLUME = "volume"
    FIRST_RESPONSE = "first-response"
    NEXT_RESPONSE = "next-response"
    RESOLUTION = "resolution"
    REOPEN = "reopen"
    FIRST_CONTACT_RESOLUTION = "first-contact-resolution"
    REPEAT_CONTACT = "repeat-contact"
    CHANNEL_SWITCH = "channel-switch"
    EXPLAIN_TWICE = "explain-twice"
    BOT = "bot"
    SLA = "sla"
    BACKLOG = "backlog"
    AGENTS = "agents"
    SURVEYS = "surveys"


class FilterQuery(Schema):
    start: dt.date | None = Field(None, description="First local day (the workspace's time zone) of the "
                                                    "conversations' creation, inclusive")
    end: dt.date | None = Field(None, description="Last local day, inclusive")
    channel_id: Id | None = Field(None, description="Conversations that used this channel")
    brand_id: Id | None = None
    team_id: Id | None = None
    agent_id: Id | None = Field(None, description="Conversations assigned to this agent (last assignee)")
    language: str | None = Field(None, max_length=16)
    tag: str | None = Field(None, max_length=100)
    format: Format = Field(Format.JSON, description="`json`, or `csv` or `xlsx` (an attachment)")


class MetricQuery(FilterQuery):
    days: int = Field(7, ge=1, le=365, description="N of the repeat-contact and explain-twice rates")
    by: Bucket = Field(Bucket.DAY, description="The volume's buckets: local hour of day, day or week")


class FactQuery(FilterQuery):
    cursor: str | None = Field(None, max_length=200, description="The `next_cursor` of the previous page")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page (JSON)")


class MetricOut(Schema):
    metric: str
    filters: dict[str, Any]
    value: Any


class RowsOut(Schema):
    items: list[dict[str, Any]]
    next_cursor: str | None = None


class AlertRuleIn(Schema):
    name: str = Field(..., max_length=200)
    metric: str = Field(..., description="backlog, new_conversations, csat, first_response_median, "
                                         "resolution_median, sla_first_response, sla_resolution, reopen_rate or "
                                         "first_contact_resolution (docs/analytics.md, Alerts)")
    comparison: str = Field(..., description="`above` or `below`")
    threshold: float = Field(..., description="In the metric's unit: a count, a percent (0–100) or minutes")
    window_days: int = Field(1, description="1: today (the workspace's local day); N: the last N local days")
    window_hours: int = Field(0, description="0: the window is `window_days`; N (1–168): the last N hours instead")
    channel_id: Id | None = None
    team_id: Id | None = None
    recipient_ids: list[int] = Field(default_factory=list, description="Member ids holding analytics.view")
    enabled: bool = True


class AlertRuleOut(AlertRuleIn):
    id: int
    unit: str
    state: str = Field(..., description="`clear` or `firing`")
    last_value: float | None
    checked_at: dt.datetime | None
    fired_at: dt.datetime | None
    cleared_at: dt.datetime | None


class ReportScheduleIn(Schema):
    name: str = Field(..., max_length=200)
    frequency: str = Field("weekly", description="`daily` or `weekly`")
    weekday: int = Field(0, description="Weekly: 0 Monday … 6 Sunday")
    hour: int = Field(8, description="Local hour (the workspace's time zone), 0–23")
    channel_id: Id | None = None
    team_id: Id | None = None
    recipient_ids: list[int] = Field(default_factory=list, description="Member ids holding analytics.view")
    enabled: bool = True


class ReportScheduleOut(ReportScheduleIn):
    id: int
    last_slot: dt.date | None = Field(None, description="Local date of the last slot sent")
    last_sent_at: dt.datetime | None


class ReportSentOut(Schema):
    slot: dt.date
    start: dt.date
    end: dt.date
