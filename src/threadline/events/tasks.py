from __future__ import annotations

from threadline.events.models import OutboxEvent
from threadline.events.registry import durable
from threadline.jobs.registry import task


@task(max_attempts=10)
def dispatch_event_task(outbox_id: int, subscriber_name: str) -> None:
    """Hand one outbox event to one durable subscriber; subscribers are idempotent per outbox id."""
    event = OutboxEvent.objects.get(pk=outbox_id)
    durable(subscriber_name).resolve()(event.type, event.payload, event.pk)
