"""The durable half of the outbox: one job per event hands it to every durable subscriber that wants it."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from threadline.events.models import OutboxEvent
from threadline.events.registry import DURABLE, durable
from threadline.jobs.registry import task

logger = logging.getLogger(__name__)
RETRY_AFTER = 2.0  # seconds before a failed subscriber's own job first runs


@task(max_attempts=10, batch=True)
def dispatch_event_task(outbox_id: int, subscriber_name: str | None = None) -> None:
    """Hand one outbox event to its durable subscribers, each in a savepoint, in the worker's transaction.

    A subscriber that raises has its effects undone and gets a job of its own (`subscriber_name`), retried
    with backoff; the others' effects commit with this job's completion, so they never run twice.
    """
    event = OutboxEvent.objects.get(pk=outbox_id)
    if subscriber_name is not None:
        durable(subscriber_name).resolve()(event.type, event.payload, event.pk)
        return
    dispatch(outbox_id, event.type, event.payload)


def dispatch(outbox_id: int, event_type: str, payload: dict[str, Any]) -> None:
    """Run every durable subscriber that wants the event, each in a savepoint of the caller's transaction
    (the dispatch job's, or the batch job that published the event: `bus.publish`, ADR 0005)."""
    with transaction.atomic(savepoint=False):  # the worker runs it in a savepoint of its batch already
        for subscriber in DURABLE:
            if not subscriber.wants(event_type) or not subscriber.has_work(event_type, payload):
                continue
            try:
                with transaction.atomic():
                    subscriber.resolve()(event_type, payload, outbox_id)
            except Exception as exc:  # noqa: BLE001 - this subscriber alone is retried, by its own job
                logger.warning("subscriber %s failed on event %s, retried alone: %s", subscriber.name, outbox_id, exc)
                dispatch_event_task.enqueue(outbox_id, subscriber.name, delay=RETRY_AFTER,
                                            unique_key=f"event:{outbox_id}:{subscriber.name}")
