"""`publish`: record a domain event in the caller's transaction and hand it to subscribers after commit."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from threadline.events.models import OutboxEvent
from threadline.events.registry import DURABLE, IMMEDIATE
from threadline.events.types import DomainEvent

logger = logging.getLogger(__name__)


def publish(event: DomainEvent) -> OutboxEvent:
    """Write the outbox row and one durable job for its interested subscribers; must run inside a transaction."""
    from threadline.events.tasks import dispatch_event_task

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publish() must be called inside the caller's transaction")
    payload: dict[str, Any] = json.loads(json.dumps(event.payload(), cls=DjangoJSONEncoder))
    row = OutboxEvent.objects.create(workspace_id=event.workspace_id, type=event.type, payload=payload)
    if any(subscriber.wants(event.type) for subscriber in DURABLE):
        dispatch_event_task.enqueue(row.pk, unique_key=f"event:{row.pk}")
    transaction.on_commit(lambda: _run_immediate(event.type, payload, row.pk))
    return row


def _run_immediate(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    for subscriber in IMMEDIATE:
        if not subscriber.wants(event_type):
            continue
        try:
            subscriber.resolve()(event_type, payload, outbox_id)
        except Exception:  # noqa: BLE001 - best effort by design; durable work is never here
            logger.exception("immediate subscriber %s failed on %s", subscriber.name, event_type)
