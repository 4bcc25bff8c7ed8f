"""/api/v1/webhooks: subscriptions to domain events (admins), their delivery log, and redelivery."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import PageQuery, page, paginate
from threadline.core.schemas import Id
from threadline.webhooks.actions import (
    do_create_subscription,
    do_delete_subscription,
    do_redeliver,
    do_update_subscription,
)
from threadline.webhooks.contracts import delivery_shape, event_schema, recent_events
from threadline.webhooks.models import WebhookSubscription
from threadline.webhooks.queries import (
    access_delivery,
    access_subscription,
    event_types,
    list_deliveries,
    list_subscriptions,
)
from threadline.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    EventTypeOut,
    PolledEventOut,
    PollQuery,
    SubscriptionCreatedOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionPatch,
)

router = Router(tags=["webhooks"])


@router.get("/event-types", response=responses(list[EventTypeOut]), summary="Every event type one may subscribe to")
def webhook_event_types(request: HttpRequest) -> list[EventTypeOut]:
    return [EventTypeOut(type=e.type, description=e.description, fields=list(e.fields)) for e in event_types()]


@router.get("/event-types/{event_type}/schema", response=responses(dict[str, Any]),
            summary="The JSON Schema of one event type's deliveries")
def webhook_event_schema(request: HttpRequest, event_type: str) -> dict[str, Any]:
    """What a webhook delivery (and a polled item) of this type looks like: `{id, type, created_at, data}`.
    Fields may be added to `data` over time; none is renamed or removed."""
    actor(request)
    return event_schema(event_type)


@router.get("/poll/{event_type}", response=responses(list[PolledEventOut]),
            summary="Recent events of one type, newest first (Zapier/Make polling triggers; admins)")
def poll_events(request: HttpRequest, event_type: str, query: Query[PollQuery]) -> list[dict[str, Any]]:
    """A bare JSON array, newest first, each item shaped like a webhook delivery and with a unique `id` a
    polling trigger deduplicates on. `before_id` pages back through older events."""
    rows = recent_events(actor(request), event_type, limit=query.limit, before_id=query.before_id)
    return [delivery_shape(row) for row in rows]


@router.get("", response=responses(SubscriptionPage), summary="List webhook subscriptions (admins)")
def subscriptions(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    rows, cursor = paginate(list_subscriptions(actor(request)), cursor=paging.cursor, limit=paging.limit,
                            descending=False)
    return page(rows, cursor)


@router.post("", response=responses(SubscriptionCreatedOut, 201), summary="Subscribe a URL to events (admins)")
def create_subscription(request: HttpRequest, payload: SubscriptionIn) -> Status[SubscriptionCreatedOut]:
    """Answers the signing secret this once: deliveries carry `X-Threadline-Signature: t=<unix>,v1=<hex>`,
    the HMAC-SHA256 of `<t>.<raw body>` with it."""
    with transaction.atomic():
        subscription, secret = do_create_subscription(
            actor(request), payload.url, payload.event_types, payload.secret, description=payload.description
        )
    return Status(201, SubscriptionCreatedOut(**SubscriptionOut.from_orm(subscription).model_dump(), secret=secret))


@router.get("/{subscription_id}", response=responses(SubscriptionOut), summary="Get a subscription (admins)")
def subscription_detail(request: HttpRequest, subscription_id: Id) -> WebhookSubscription:
    return access_subscription(actor(request), subscription_id)


@router.patch("/{subscription_id}", response=responses(SubscriptionOut), summary="Change a subscription (admins)")
def update_subscription(request: HttpRequest, subscription_id: Id, payload: SubscriptionPatch) -> WebhookSubscription:
    agent = actor(request)
    with transaction.atomic():
        subscription = access_subscription(agent, subscription_id)
        return do_update_subscription(
            agent, subscription, url=payload.url, event_types=payload.event_types, is_active=payload.is_active,
            description=payload.description, secret=payload.secret,
        )


@router.delete("/{subscription_id}", response=responses(None, 204), summary="Delete a subscription (admins)")
def delete_subscription(request: HttpRequest, subscription_id: Id) -> Status[None]:
    agent = actor(request)
    with transaction.atomic():
        do_delete_subscription(agent, access_subscription(agent, subscription_id))
    return Status(204, None)


@router.get("/{subscription_id}/deliveries", response=responses(DeliveryPage),
            summary="The delivery log, newest first (admins)")
def deliveries(request: HttpRequest, subscription_id: Id, paging: Query[PageQuery]) -> dict[str, Any]:
    subscription = access_subscription(actor(request), subscription_id)
    rows, cursor = paginate(list_deliveries(subscription), cursor=paging.cursor, limit=paging.limit)
    return page(rows, cursor)


@router.post("/{subscription_id}/deliveries/{delivery_id}/redeliver", response=responses(DeliveryOut, 202),
             summary="Send a delivered or failed event again (admins)")
def redeliver(request: HttpRequest, subscription_id: Id, delivery_id: Id) -> Status[Any]:
    agent = actor(request)
    with transaction.atomic():
        subscription = access_subscription(agent, subscription_id)
        delivery = do_redeliver(access_delivery(agent, subscription, delivery_id))
    return Status(202, delivery)
