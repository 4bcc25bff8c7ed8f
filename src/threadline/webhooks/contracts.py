"""The outbound contract of every event: its JSON Schema (the envelope a webhook delivery carries, with the
event's `data` typed from its dataclass), and the polling read that Zapier- and Make-style integrations use
instead of a webhook (newest first, each item with a unique `id`)."""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from pydantic import TypeAdapter

from threadline.core.errors import NotFound
from threadline.events.models import OutboxEvent
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require
from threadline.webhooks.queries import EventType, event_types

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
POLL_LIMIT = 100


def access_event_type(name: str) -> EventType:
    """The declared event type `name` (the catalogue is public to every member, like /event-types)."""
    for event in event_types():
        if event.type == name:
            return event
    raise NotFound(_("No such event type."), code="event_type_not_found")


@functools.cache
def event_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one delivery of event type `name`: `{id, type, created_at, data}` as
    `webhooks.tasks.event_body` writes it, `data` being the event's fields with their types."""
    event = access_event_type(name)
    data = TypeAdapter(event.cls).json_schema()
    data.pop("title", None)
    data["additionalProperties"] = True  # new fields may be added to an event; none is ever renamed or removed
    if event.description:
        data["description"] = event.description
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"threadline:event:{event.type}",
        "title": event.type,
        "type": "object",
        "required": ["id", "type", "created_at", "data"],
        "properties": {
            "id": {"type": "integer", "description": "Unique per event; the same on a redelivery"},
            "type": {"const": event.type},
            "created_at": {"type": "string", "format": "date-time"},
            "data": data,
        },
        "additionalProperties": False,
    }


def recent_events(actor: Membership, name: str, *, limit: int, before_id: int | None = None) -> QuerySet[OutboxEvent]:
    """The workspace's events of type `name`, newest first (admins: payloads carry message text, as webhooks
    do). `before_id` pages back through older ones."""
    require(actor, Permission.ADMIN_WORKSPACE)
    access_event_type(name)
    rows = OutboxEvent.objects.filter(workspace_id=actor.workspace_id, type=name)
    if before_id is not None:
        rows = rows.filter(pk__lt=before_id)
    return rows.order_by("-pk")[: max(1, min(limit, POLL_LIMIT))]


def delivery_shape(event: OutboxEvent) -> dict[str, Any]:
    """The same object a webhook delivery POSTs (`webhooks.tasks.event_body`)."""
    return {"id": event.pk, "type": event.type, "created_at": event.created_at.isoformat(), "data": event.payload}
