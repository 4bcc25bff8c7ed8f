"""Durable subscriber: every domain event becomes one delivery per matching subscription."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from threadline.core.batch_cache import cached
from threadline.core.prepared import Prepared
from threadline.webhooks.models import WebhookDelivery, WebhookSubscription

_ACTIVE = Prepared(lambda workspace_id: WebhookSubscription.objects.filter(workspace_id=workspace_id, is_active=True))


def _subscriptions(event_type: str, payload: dict[str, Any]) -> list[WebhookSubscription]:
    """The workspace's active subscriptions to `event_type` (read once per batch)."""
    workspace_id = payload.get("workspace_id")
    if workspace_id is None:
        return []
    active = cached(("webhooks.active", workspace_id), lambda: _ACTIVE.all(workspace_id))
    return [s for s in active if "*" in s.event_types or event_type in s.event_types]


def interested(event_type: str, payload: dict[str, Any]) -> bool:
    return bool(_subscriptions(event_type, payload))


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    from threadline.webhooks.tasks import deliver_webhook_task

    workspace_id = payload.get("workspace_id")
    for subscription in _subscriptions(event_type, payload):
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    workspace_id=workspace_id, subscription=subscription, event_id=outbox_id
                )
                deliver_webhook_task.enqueue(delivery.pk, unique_key=f"webhook:{delivery.pk}", fresh=True)
        except IntegrityError:
            continue  # this event was handed to this subscription already (a retried dispatch)
