"""Request and response shapes of /api/v1/outreach."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from threadline.core.schemas import Id, Input, PageQuery


class CampaignIn(Input):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field("campaign", description="campaign (one-off to a segment) or notification (sent by an event)")
    event: str = Field("", max_length=64, description="The event a notification answers, such as order_delayed")
    purpose: str = Field("marketing", description="marketing or transactional: which consent applies")
    segment: dict[str, Any] = Field(default_factory=dict, description="The filter (docs/outreach.md); {} is everyone")
    subject: str = Field("", max_length=300)
    messages: dict[str, str] = Field(description="The text per language code; {{name}} and event variables")
    whatsapp_template: dict[str, str] = Field(default_factory=dict,
                                              description='{"name", "language"}: sent outside WhatsApp\'s 24 h window')
    template_variables: list[str] = Field(default_factory=list, max_length=20,
                                          description="The variables filling the template's {{1}}, {{2}}... in order")


class CampaignPatch(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    event: str | None = Field(None, max_length=64)
    purpose: str | None = None
    segment: dict[str, Any] | None = None
    subject: str | None = Field(None, max_length=300)
    messages: dict[str, str] | None = None
    whatsapp_template: dict[str, str] | None = None
    template_variables: list[str] | None = Field(None, max_length=20)


class OutreachReasonOut(Schema):
    status: str
    code: str
    reason: str
    count: int


class ChannelCountOut(Schema):
    kind: str | None
    count: int


class ReportOut(Schema):
    recipients: int
    by_status: dict[str, int]
    reasons: list[OutreachReasonOut]
    by_channel: list[ChannelCountOut]
    sms_segments: int
    templates: int


class CampaignOut(Schema):
    id: int
    name: str
    kind: str
    event: str
    purpose: str
    state: str
    segment: dict[str, Any]
    subject: str
    messages: dict[str, str]
    whatsapp_template: dict[str, Any]
    template_variables: list[str]
    source: str
    recipients: int
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    created_at: dt.datetime


class CampaignDetailOut(CampaignOut):
    report: ReportOut


class CampaignPage(Schema):
    items: list[CampaignOut]
    next_cursor: str | None


class CampaignQuery(PageQuery):
    kind: str = Field("", description="campaign or notification; empty for both")


class OutreachDeliveryOut(Schema):
    id: int
    campaign_id: int
    contact_id: int
    status: str
    reason_code: str
    reason: str
    channel_id: int | None
    channel_choice: str
    address: str
    message_id: int | None
    purpose: str
    as_template: bool
    segments: int
    due_at: dt.datetime | None
    sent_at: dt.datetime | None
    finished_at: dt.datetime | None


class OutreachDeliveryPage(Schema):
    items: list[OutreachDeliveryOut]
    next_cursor: str | None


class DeliveryQuery(PageQuery):
    status: str = Field("", description="pending, held, queued, delivered, failed or skipped; empty for all")


class SegmentIn(Input):
    segment: dict[str, Any] = Field(default_factory=dict)


class SegmentCountOut(Schema):
    count: int


class ContactRef(Input):
    contact_id: Id | None = None
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=64)


class NotificationIn(Input):
    event: str = Field(min_length=1, max_length=64)
    contact: ContactRef
    variables: dict[str, Any] = Field(default_factory=dict)
    key: str = Field("", max_length=200, description="Your idempotency key: the same key is one notification")
    purpose: str = Field("", description="marketing or transactional; empty: the notification's own")


class SettingsIn(Input):
    quiet_start: dt.time | None = None
    quiet_end: dt.time | None = None
    default_rate_per_minute: int = Field(600, ge=1, le=100_000)
    rate_limits: dict[str, int] = Field(default_factory=dict, description='Per channel kind: {"sms": 60}')
    region_defaults: dict[str, str] = Field(default_factory=dict, description='Country → channel kind: {"TH": "line"}')
    marketing_requires_opt_in: bool = False


class SettingsOut(Schema):
    quiet_start: dt.time | None
    quiet_end: dt.time | None
    default_rate_per_minute: int
    rate_limits: dict[str, int]
    region_defaults: dict[str, str]
    marketing_requires_opt_in: bool


class RuleIn(Input):
    name: str = Field(min_length=1, max_length=200)
    enabled: bool = True
    trigger: str = Field(description="url, time or call")
    url_pattern: str = Field("", max_length=500, description="Shell-style: */pricing*")
    seconds: int = Field(0, ge=0, le=3600)
    call_name: str = Field("", max_length=64, description='Threadline.proactive("name") from the page')
    messages: dict[str, str] = Field(description="The message per language code")


class RuleOut(Schema):
    id: int
    name: str
    enabled: bool
    trigger: str
    url_pattern: str
    seconds: int
    call_name: str
    messages: dict[str, str]
