"""The durable half of the outbox: one job per event hands it to every durable subscriber that wants it."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from threadline.events.models import OutboxEvent
from threadline.events.registry import DURABLE, durable
from threadline.jobs.registry import drop_followers, followers_mark, task

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


@task(max_attempts=10, batch=True)
def dispatch_events_task(outbox_ids: list[int]) -> None:
    """`dispatch_event_task` for many events (`bus.publish_many`), in the order given, in one savepoint."""
    events = OutboxEvent.objects.in_bulk(outbox_ids)
    for outbox_id in outbox_ids:
        event = events.get(outbox_id)
        if event is not None:
            dispatch(outbox_id, event.type, event.payload)


def dispatch(outbox_id: int, event_type: str, payload: dict[str, Any]) -> None:
    """Run every durable subscriber that wants the event in the caller's transaction (the dispatch job's, or
    the batch job that published the event: `bus.publish`, ADR 0005).

    They run together in one savepoint (issue 11, fifth pass: two statements per subscriber saved). When one
    raises, that savepoint is undone and the others run again, each in a savepoint of its own, while the one
    that failed is retried alone by its own job: the effects of each subscriber commit once, as before; only a
    subscriber that ran before the failing one is called twice (subscribers are database-only, ADR 0004)."""
    with transaction.atomic(savepoint=False):  # the worker runs it in a savepoint of its batch already
        wanted = (subscriber for subscriber in DURABLE if subscriber.wants(event_type))
        current = next((subscriber for subscriber in wanted if subscriber.has_work(event_type, payload)), None)
        if current is None:
            return  # nobody has work: no savepoint either
        mark = followers_mark()
        try:
            with transaction.atomic():
                current.resolve()(event_type, payload, outbox_id)
                for subscriber in wanted:  # the rest, in order, each asked after the previous one ran
                    current = None  # an `interested` check that raises fails the dispatch, as before
                    if subscriber.has_work(event_type, payload):
                        current = subscriber
                        subscriber.resolve()(event_type, payload, outbox_id)
            return
        except Exception as exc:  # noqa: BLE001 - undone; the failing subscriber alone is retried, by its own job
            drop_followers(mark)  # the events they published are undone too
            failed = current
            _retry_alone(outbox_id, failed, exc)
        for subscriber in DURABLE:
            if subscriber is failed or not subscriber.wants(event_type) or not subscriber.has_work(event_type, payload):
                continue
            mark = followers_mark()
            try:
                with transaction.atomic():
                    subscriber.resolve()(event_type, payload, outbox_id)
            except Exception as exc:  # noqa: BLE001 - this subscriber alone is retried, by its own job
                drop_followers(mark)
                _retry_alone(outbox_id, subscriber, exc)


def _retry_alone(outbox_id: int, subscriber: Any, exc: Exception) -> None:
    if subscriber is None:  # not a subscriber's failure (its `interested` check): the whole job fails, as before
        raise exc
    logger.warning("subscriber %s failed on event %s, retried alone: %s", subscriber.name, outbox_id, exc)
    dispatch_event_task.enqueue(outbox_id, subscriber.name, delay=RETRY_AFTER,
                                unique_key=f"event:{outbox_id}:{subscriber.name}")
