"""Durable subscriber: every domain event becomes one delivery per matching subscription."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from threadline.webhooks.models import WebhookDelivery, WebhookSubscription


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    from threadline.webhooks.tasks import deliver_webhook_task

    workspace_id = payload.get("workspace_id")
    if workspace_id is None:
        return
    for subscription in WebhookSubscription.objects.filter(workspace_id=workspace_id, is_active=True):
        if "*" not in subscription.event_types and event_type not in subscription.event_types:
            continue
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    workspace_id=workspace_id, subscription=subscription, event_id=outbox_id
                )
                deliver_webhook_task.enqueue(delivery.pk, unique_key=f"webhook:{delivery.pk}")
        except IntegrityError:
            continue  # this event was handed to this subscription already (a retried dispatch)
