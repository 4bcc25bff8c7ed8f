"""Reads for outbound webhooks (admins only), and the catalogue of event types one may subscribe to."""

from __future__ import annotations

import dataclasses
import functools
import pkgutil
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.db.models import Count, Max, Q, QuerySet
from django.utils.translation import gettext as _

from threadline.core.errors import NotFound
from threadline.events.types import DomainEvent
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require
from threadline.webhooks.models import WebhookDelivery, WebhookSubscription

ALL_EVENTS = "*"


def list_subscriptions(actor: Membership) -> QuerySet[WebhookSubscription]:
    require(actor, Permission.ADMIN_WORKSPACE)
    return WebhookSubscription.objects.filter(workspace_id=actor.workspace_id)


def access_subscription(actor: Membership, subscription_id: int) -> WebhookSubscription:
    subscription = list_subscriptions(actor).filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound(_("No such webhook subscription."), code="webhook_not_found")
    return subscription


def failing_subscriptions(actor: Membership) -> QuerySet[WebhookSubscription]:
    """The workspace's webhooks with deliveries that failed for good, each annotated with `failed` (how many) and
    `last_failed_at`, the most recent first."""
    failed = Q(deliveries__state=WebhookDelivery.State.FAILED)
    return (list_subscriptions(actor)
            .annotate(failed=Count("deliveries", filter=failed), last_failed_at=Max("deliveries__updated_at",
                                                                                      filter=failed))
            .filter(failed__gt=0).order_by("-last_failed_at"))


def list_deliveries(subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(subscription=subscription).select_related("event")


def access_delivery(actor: Membership, subscription: WebhookSubscription, delivery_id: int) -> WebhookDelivery:
    delivery = list_deliveries(subscription).filter(pk=delivery_id, workspace_id=actor.workspace_id).first()
    if delivery is None:
        raise NotFound(_("No such webhook delivery."), code="webhook_delivery_not_found")
    return delivery


@dataclass(frozen=True)
class EventType:
    type: str
    description: str
    fields: tuple[str, ...]
    cls: type[DomainEvent] = dataclasses.field(repr=False, compare=False, default=DomainEvent)


def _event_modules() -> list[str]:
    """`events` modules of every Threadline app and of their direct sub-packages (a channel kind's folder)."""
    names = []
    for app in apps.get_app_configs():
        if not app.name.startswith("threadline."):
            continue
        candidates = [f"{app.name}.events"]
        candidates += [f"{app.name}.{sub.name}.events" for sub in pkgutil.iter_modules([app.path]) if sub.ispkg]
        names += [name for name in candidates if _exists(name)]
    return names


def _exists(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


@functools.cache
def event_types() -> tuple[EventType, ...]:
    """Every event type declared by a DomainEvent subclass in a domain's `events.py`, sorted by type."""
    modules = set(_event_modules())
    for module in sorted(modules):
        import_module(module)
    found: dict[str, EventType] = {}
    for cls in _subclasses(DomainEvent):
        if cls.__module__ not in modules or "type" not in vars(cls):
            continue
        doc = (cls.__doc__ or "").strip()
        if doc.startswith(f"{cls.__name__}("):  # the signature dataclasses write when there is no docstring
            doc = ""
        fields = tuple(f.name for f in dataclasses.fields(cls))
        found[cls.type] = EventType(type=cls.type, description=doc.splitlines()[0] if doc else "", fields=fields,
                                    cls=cls)
    return tuple(found[name] for name in sorted(found))


def known_event_types() -> set[str]:
    return {event.type for event in event_types()}
