"""`publish`: record a domain event in the caller's transaction and hand it to subscribers after commit."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from threadline.core.batch_cache import recall, remember
from threadline.core.row_writes import create
from threadline.events.models import OutboxEvent
from threadline.events.registry import DURABLE, IMMEDIATE
from threadline.events.types import DomainEvent
from threadline.jobs.registry import follow_in_batch

logger = logging.getLogger(__name__)


def publish(event: DomainEvent) -> OutboxEvent:
    """Write the outbox row and one durable job for its interested subscribers; must run inside a transaction.

    Published by a batch job (inbound processing, or a subscriber of another event), the event is dispatched
    to its subscribers right after that job, in its savepoint, instead of by a job of its own: they commit
    with the job that caused them, or not at all (ADR 0005). Elsewhere, no job is written when no durable
    subscriber has anything to do for it (say `message.status_changed` while the workspace has no webhook
    subscription): a subscriber acts on the events published after its configuration was committed."""
    from threadline.events.tasks import dispatch, dispatch_event_task

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publish() must be called inside the caller's transaction")
    payload: dict[str, Any] = json.loads(json.dumps(event.payload(), cls=DjangoJSONEncoder))
    row = create(OutboxEvent, workspace_id=event.workspace_id, type=event.type, payload=payload)
    remember(("outbox.created_at", row.pk), row.created_at)  # for `published_at` in this batch
    wanted = [subscriber for subscriber in DURABLE if subscriber.wants(event.type)]
    if wanted and not follow_in_batch(lambda: dispatch(row.pk, event.type, payload)) and (
            any(not subscriber.interested for subscriber in wanted)
            or any(subscriber.has_work(event.type, payload) for subscriber in wanted)):
        dispatch_event_task.enqueue(row.pk, unique_key=f"event:{row.pk}", fresh=True)
    transaction.on_commit(lambda: _run_immediate(event.type, payload, row.pk))
    return row


BULK_DISPATCH = 100  # events per dispatch job of `publish_many`


def publish_many(events: Sequence[DomainEvent]) -> list[OutboxEvent]:
    """`publish` for many events at once (a campaign's batch of recipients): the outbox rows in one INSERT and
    one dispatch job per BULK_DISPATCH events that a durable subscriber has work for (inside a batch job: one
    action after it, in its savepoint), instead of one job per event; immediate subscribers after commit.
    Must run inside a transaction; subscribers see the events in the given order."""
    from threadline.events.tasks import dispatch, dispatch_events_task

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publish_many() must be called inside the caller's transaction")
    if not events:
        return []
    rows = OutboxEvent.objects.bulk_create([
        OutboxEvent(workspace_id=event.workspace_id, type=event.type,
                    payload=json.loads(json.dumps(event.payload(), cls=DjangoJSONEncoder))) for event in events])
    if any(row.pk is None for row in rows):  # SQLite >= 3.35 and PostgreSQL return them
        raise RuntimeError("the database did not return the outbox rows' keys")
    work: list[OutboxEvent] = []
    for row in rows:
        remember(("outbox.created_at", row.pk), row.created_at)
        wanted = [subscriber for subscriber in DURABLE if subscriber.wants(row.type)]
        if wanted and (any(not subscriber.interested for subscriber in wanted)
                       or any(subscriber.has_work(row.type, row.payload) for subscriber in wanted)):
            work.append(row)

    def dispatch_all(chosen: list[OutboxEvent]) -> None:
        for row in chosen:
            dispatch(row.pk, row.type, row.payload)

    for start in range(0, len(work), BULK_DISPATCH):
        chunk = work[start:start + BULK_DISPATCH]
        if not follow_in_batch(lambda chunk=chunk: dispatch_all(chunk)):
            dispatch_events_task.enqueue([row.pk for row in chunk], unique_key=f"events:{chunk[0].pk}", fresh=True)
    transaction.on_commit(lambda: [_run_immediate(row.type, row.payload, row.pk) for row in rows])
    return rows


def published_at(outbox_id: int) -> dt.datetime:
    """When outbox row `outbox_id` was written: kept by `publish` for the rest of its batch, else read."""
    known = recall(("outbox.created_at", outbox_id))
    if isinstance(known, dt.datetime):
        return known
    return OutboxEvent.objects.values_list("created_at", flat=True).get(pk=outbox_id)


def _run_immediate(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    for subscriber in IMMEDIATE:
        if not subscriber.wants(event_type):
            continue
        try:
            subscriber.resolve()(event_type, payload, outbox_id)
        except Exception:  # noqa: BLE001 - best effort by design; durable work is never here
            logger.exception("immediate subscriber %s failed on %s", subscriber.name, event_type)
