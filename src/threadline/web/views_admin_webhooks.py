"""The "Webhooks" screen (/app/admin/webhooks): outbound subscriptions (URL, events, description, active; the
signing secret is write-only: generated or typed at creation and shown that once, replaceable later), and one
subscription's page with its delivery log (paged, newest first) and a "Redeliver" button on each finished
delivery. Private URLs are refused when saved (webhooks.actions.check_url). The webhooks domain audits."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from threadline.api.pagination import paginate
from threadline.tenancy.permissions import Permission
from threadline.web.admin_forms import FormErrors, checked, listed, screen, submit
from threadline.web.views_admin import admin_screen
from threadline.webhooks.actions import (
    do_create_subscription,
    do_delete_subscription,
    do_redeliver,
    do_update_subscription,
)
from threadline.webhooks.models import WebhookSubscription
from threadline.webhooks.queries import (
    ALL_EVENTS,
    access_delivery,
    access_subscription,
    event_types,
    list_deliveries,
    list_subscriptions,
)

URL = "/app/admin/webhooks"
PAGE = 25


def _events(data: QueryDict) -> list[str]:
    return [ALL_EVENTS] if checked(data, "all_events") else listed(data, "event_types")


def _list_page(request: HttpRequest, *, error: Exception | None = None, created: Any = None,
               secret: str = "") -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    context = {"subscriptions": list_subscriptions(agent).order_by("id"), "event_types": event_types(),
               "created": created, "secret": secret, "form": request.POST if error else {},
               "chosen": _events(request.POST) if error else []}
    return screen(request, "web/admin/webhooks.html", context, error=error, status=201 if secret else 200)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_WORKSPACE)
def webhooks_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _list_page(request)
    data = request.POST
    try:
        with transaction.atomic():
            subscription, secret = do_create_subscription(
                request.agent, data.get("url", ""), _events(data),  # type: ignore[attr-defined]
                data.get("secret") or None, description=data.get("description", ""))
    except FormErrors as exc:
        return _list_page(request, error=exc)
    return _list_page(request, created=subscription, secret=secret)


def _detail_page(request: HttpRequest, subscription: WebhookSubscription, *,
                 error: Exception | None = None) -> HttpResponse:
    deliveries, next_cursor = paginate(list_deliveries(subscription), cursor=request.GET.get("cursor") or None,
                                       limit=PAGE)
    form = request.POST if error else {"url": subscription.url, "description": subscription.description}
    chosen = _events(request.POST) if error else subscription.event_types
    context = {"subscription": subscription, "event_types": event_types(), "form": form, "chosen": chosen,
               "all_events": ALL_EVENTS in chosen, "deliveries": deliveries, "next_cursor": next_cursor,
               "first_page": not request.GET.get("cursor")}
    return screen(request, "web/admin/webhook.html", context, error=error)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_WORKSPACE)
def webhook_view(request: HttpRequest, subscription_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    subscription = access_subscription(agent, subscription_id)
    if request.method != "POST":
        return _detail_page(request, subscription)
    data = request.POST
    return submit(request, lambda: do_update_subscription(
        agent, subscription, url=data.get("url", ""), event_types=_events(data),
        is_active=checked(data, "is_active"), description=data.get("description", ""),
        secret=data.get("secret") or None,
    ), _("Webhook saved."), f"{URL}/{subscription.pk}", lambda exc: _detail_page(request, subscription, error=exc))


@require_POST
@admin_screen(Permission.ADMIN_WORKSPACE)
def delete_view(request: HttpRequest, subscription_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    return submit(request, lambda: do_delete_subscription(agent, access_subscription(agent, subscription_id)),
                  _("Webhook deleted with its delivery log."), URL, lambda exc: _list_page(request, error=exc))


@require_POST
@admin_screen(Permission.ADMIN_WORKSPACE)
def redeliver_view(request: HttpRequest, subscription_id: int, delivery_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    subscription = access_subscription(agent, subscription_id)
    return submit(request, lambda: do_redeliver(access_delivery(agent, subscription, delivery_id)),
                  _("The event is being sent again."), f"{URL}/{subscription.pk}",
                  lambda exc: _detail_page(request, subscription, error=exc))
