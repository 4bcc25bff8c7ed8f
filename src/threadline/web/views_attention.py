"""The "Needs attention" screen of /app/ (admins): inbound payloads that could not be processed, and what did not
go out: replies that failed for good, and webhooks with failed deliveries.

Each payload shows why (the reason the worker recorded), the channel, when it arrived and its payload; Replay runs
it through processing again after a fix (a corrected channel setting, an upgrade), Dismiss takes it off the list.
A failed reply links to its conversation (Retry and Send on another channel are there); a failing webhook to its
delivery log (Redeliver is there), for members who administer webhooks.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from threadline.api.pagination import decode_cursor, encode_cursor
from threadline.channels.actions import do_dismiss_inbound_event, do_replay_inbound_event
from threadline.channels.models import InboundEvent
from threadline.channels.queries import access_inbound_event, list_inbound_events, payload_text, shown_headers
from threadline.tenancy.permissions import Permission, has_permission
from threadline.web.queries import undelivered_replies
from threadline.web.session import agent_view, wants_json
from threadline.webhooks.queries import failing_subscriptions

PAGE = 50
SHOWN_PAYLOAD = 64 * 1024  # characters of a payload shown on the page


@require_GET
@agent_view
def attention_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    events = list_inbound_events(agent, state="attention")
    cursor = request.GET.get("cursor")
    if cursor:
        events = events.filter(pk__lt=decode_cursor(cursor))
    rows = list(events.order_by("-pk")[: PAGE + 1])
    items = [{"event": event, "payload": payload_text(event)[:SHOWN_PAYLOAD], "headers": shown_headers(event)}
             for event in rows[:PAGE]]
    context = {"agent": agent, "items": items, "notice": request.GET.get("done", ""),
               "next_cursor": encode_cursor(rows[PAGE - 1].pk) if len(rows) > PAGE else None,
               "undelivered": undelivered_replies(agent, PAGE),
               "webhooks": (list(failing_subscriptions(agent)[:PAGE])
                            if has_permission(agent, Permission.ADMIN_WORKSPACE) else None)}
    return render(request, "web/attention.html", context)


def _act(request: HttpRequest, event_id: int, action: Callable[..., InboundEvent], notice: str) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        event = action(agent, access_inbound_event(agent, event_id))
    if wants_json(request):
        return JsonResponse({"id": event.pk, "state": event.state, "message": notice})
    return redirect(f"/app/attention?done={event.state}")


@require_POST
@agent_view
def replay_view(request: HttpRequest, event_id: int) -> HttpResponse:
    return _act(request, event_id, do_replay_inbound_event, _("Replaying: it is processed again now."))


@require_POST
@agent_view
def dismiss_view(request: HttpRequest, event_id: int) -> HttpResponse:
    return _act(request, event_id, do_dismiss_inbound_event, _("Dismissed."))
