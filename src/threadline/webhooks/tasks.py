"""Delivering one webhook: POST the signed event, retry with backoff, keep the log."""

from __future__ import annotations

import json

import httpx
from django.db import transaction

from threadline.core import crypto, http
from threadline.core.time import now
from threadline.jobs.registry import Retry, task
from threadline.webhooks.contracts import delivery_shape
from threadline.webhooks.models import WebhookDelivery
from threadline.webhooks.signing import signature_header

MAX_ATTEMPTS = 8


def event_body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery_shape(delivery.event), ensure_ascii=False, sort_keys=True).encode()


@task(max_attempts=MAX_ATTEMPTS + 1)
def deliver_webhook_task(delivery_id: int) -> None:
    delivery = WebhookDelivery.objects.select_related("subscription", "event").filter(pk=delivery_id).first()
    if delivery is None or delivery.state != WebhookDelivery.State.PENDING:
        return
    subscription = delivery.subscription
    body = event_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "X-Threadline-Event": delivery.event.type,
        "X-Threadline-Delivery": str(delivery.pk),
        "X-Threadline-Signature": signature_header(crypto.decrypt_json(subscription.secret_encrypted)["secret"], body),
    }
    delivery.attempts += 1
    status, error, retry = None, "", False
    try:
        response = http.post(subscription.url, content=body, headers=headers)
        status = response.status_code
        if 200 <= status < 300:
            pass
        elif status == 429 or status >= 500 or status == 408:
            error, retry = f"answered {status}", True
        else:
            error = f"answered {status}"
    except http.DestinationRefused as exc:
        error = str(exc)
    except httpx.TransportError as exc:
        error, retry = http.transport_failure(subscription.url, exc), True
    if not error:
        delivery.state, delivery.delivered_at = WebhookDelivery.State.DELIVERED, now()
    elif not retry or delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = WebhookDelivery.State.FAILED
    delivery.response_status, delivery.last_error = status, error[:2000]
    with transaction.atomic():
        delivery.save(update_fields=["state", "attempts", "response_status", "last_error", "delivered_at", "updated_at"])
    if delivery.state == WebhookDelivery.State.PENDING:
        raise Retry(error)
