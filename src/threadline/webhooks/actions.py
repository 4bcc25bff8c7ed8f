"""Writes for outbound webhook subscriptions (admins only). Callers own the transaction.

A subscription's secret is stored encrypted and shown once, on creation; deliveries are signed with it
(`webhooks.signing`). Deliveries themselves are written by the event subscriber and the delivery task.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlparse

from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.core import crypto, http
from threadline.core.errors import Conflict, ValidationFailed
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require
from threadline.webhooks.models import WebhookDelivery, WebhookSubscription
from threadline.webhooks.queries import ALL_EVENTS, known_event_types

MAX_URL = 2000
MIN_SECRET, MAX_SECRET = 16, 200


def check_url(url: str) -> str:
    """An absolute public http(s) URL (where it points is checked again on every delivery by `core.http`)."""
    url = (url or "").strip()
    try:
        parsed = urlparse(url)
        hostname, _port = parsed.hostname, parsed.port  # .port raises on a malformed port
    except ValueError as exc:
        raise ValidationFailed(_("Enter a valid http(s) URL."), code="invalid_url", field="url") from exc
    if parsed.scheme not in ("http", "https") or not hostname or len(url) > MAX_URL or any(c.isspace() for c in url):
        raise ValidationFailed(_("Enter a valid http(s) URL."), code="invalid_url", field="url")
    http.refuse_private_url(url, field="url")
    return url


def check_event_types(event_types: list[str]) -> list[str]:
    """Known event types (see GET /webhooks/event-types), or `*` for all of them."""
    wanted = sorted({(name or "").strip() for name in event_types})
    if not wanted:
        raise ValidationFailed(_("Choose at least one event type, or * for all."), code="invalid_event_types",
                               field="event_types")
    unknown = [name for name in wanted if name != ALL_EVENTS and name not in known_event_types()]
    if unknown:
        raise ValidationFailed(_("Unknown event types: %(names)s.") % {"names": ", ".join(unknown)},
                               code="invalid_event_types", field="event_types")
    return [ALL_EVENTS] if ALL_EVENTS in wanted else wanted


def check_secret(secret: str) -> str:
    if not MIN_SECRET <= len(secret) <= MAX_SECRET:
        raise ValidationFailed(
            _("A secret has %(min)d to %(max)d characters.") % {"min": MIN_SECRET, "max": MAX_SECRET},
            code="invalid_secret", field="secret",
        )
    return secret


def do_create_subscription(
    actor: Membership, url: str, event_types: list[str], secret: str | None = None, *, description: str = ""
) -> tuple[WebhookSubscription, str]:
    """A new active subscription and its signing secret (generated when not given); the secret is returned
    here only, never shown again."""
    require(actor, Permission.ADMIN_WORKSPACE)
    secret = check_secret(secret) if secret else crypto.new_secret()
    subscription = WebhookSubscription.objects.create(
        workspace_id=actor.workspace_id, url=check_url(url), event_types=check_event_types(event_types),
        secret_encrypted=crypto.encrypt_json({"secret": secret}), description=(description or "")[:300],
    )
    record_change("webhook.created", subscription, {"events": subscription.event_types}, actor=actor)
    return subscription, secret


def do_update_subscription(
    actor: Membership, subscription: WebhookSubscription, *, url: str | None = None,
    event_types: list[str] | None = None, is_active: bool | None = None, description: str | None = None,
    secret: str | None = None,
) -> WebhookSubscription:
    """Change what was given; a new `secret` replaces the old one at once (deliveries already queued are
    signed with the new one)."""
    require(actor, Permission.ADMIN_WORKSPACE)
    if url is not None:
        subscription.url = check_url(url)
    if event_types is not None:
        subscription.event_types = check_event_types(event_types)
    if is_active is not None:
        subscription.is_active = is_active
    if description is not None:
        subscription.description = description[:300]
    if secret is not None:
        subscription.secret_encrypted = crypto.encrypt_json({"secret": check_secret(secret)})
    subscription.save()
    record_change("webhook.secret_changed" if secret else "webhook.updated", subscription, {"active": is_active})
    return subscription


def do_delete_subscription(actor: Membership, subscription: WebhookSubscription) -> None:
    """Delete the subscription and its delivery log; queued deliveries find nothing and stop."""
    require(actor, Permission.ADMIN_WORKSPACE)
    record_change("webhook.deleted", subscription, actor=actor)
    subscription.delete()


def do_redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivered or failed event again, with a fresh series of attempts; its log row is reused."""
    from threadline.webhooks.tasks import deliver_webhook_task

    if delivery.state == WebhookDelivery.State.PENDING:
        raise Conflict(_("This delivery is still being attempted."), code="delivery_pending")
    delivery.state = WebhookDelivery.State.PENDING
    delivery.attempts = 0
    delivery.delivered_at = None
    delivery.save(update_fields=["state", "attempts", "delivered_at", "updated_at"])
    deliver_webhook_task.enqueue(delivery.pk, unique_key=f"webhook:{delivery.pk}:again:{uuid.uuid4().hex}")
    record_change("webhook.redelivered", delivery.subscription, {"delivery_id": delivery.pk,
                                                                 "event_id": delivery.event_id})
    return delivery
