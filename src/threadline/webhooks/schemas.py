"""Request and response shapes of /api/v1/webhooks. A subscription's secret appears once, on creation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from threadline.core.schemas import Input
from threadline.webhooks.models import WebhookDelivery


class EventTypeOut(Schema):
    type: str
    description: str
    fields: list[str] = Field(description="The keys of the event's `data`")


class PolledEventOut(Schema):
    id: int = Field(description="Unique per event: what a polling trigger deduplicates on")
    type: str
    created_at: str = Field(description="ISO 8601 with its offset, exactly as a webhook delivery writes it")
    data: dict[str, Any] = Field(description="The event's fields (its JSON Schema: /webhooks/event-types/{type}/schema)")


class PollQuery(Schema):
    limit: int = Field(50, ge=1, le=100)
    before_id: int | None = Field(None, ge=1, description="Only events older than this id (paging back)")


class SubscriptionOut(Schema):
    id: int
    url: str
    event_types: list[str]
    is_active: bool
    description: str
    created_at: dt.datetime
    updated_at: dt.datetime


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str = Field(description="Signs every delivery (`X-Threadline-Signature`); shown this once only")


class SubscriptionPage(Schema):
    items: list[SubscriptionOut]
    next_cursor: str | None


class SubscriptionIn(Input):
    url: str = Field(min_length=1, max_length=2000, description="An http(s) URL that receives POSTed events")
    event_types: list[str] = Field(min_length=1, max_length=100, description="Event types, or [\"*\"] for all")
    secret: str | None = Field(None, min_length=16, max_length=200, description="Generated when not given")
    description: str = Field("", max_length=300)


class SubscriptionPatch(Input):
    url: str | None = Field(None, min_length=1, max_length=2000)
    event_types: list[str] | None = Field(None, min_length=1, max_length=100)
    is_active: bool | None = None
    description: str | None = Field(None, max_length=300)
    secret: str | None = Field(None, min_length=16, max_length=200, description="A new secret (never shown again)")


class DeliveryOut(Schema):
    id: int
    event_id: int
    event_type: str
    event_data: dict[str, Any]
    state: str = Field(description="pending, delivered or failed")
    attempts: int
    response_status: int | None = Field(description="The HTTP status of the last attempt")
    last_error: str
    delivered_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime = Field(description="When the last attempt finished")

    @staticmethod
    def resolve_event_type(obj: WebhookDelivery) -> str:
        return obj.event.type

    @staticmethod
    def resolve_event_data(obj: WebhookDelivery) -> dict[str, Any]:
        return dict(obj.event.payload)


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None
