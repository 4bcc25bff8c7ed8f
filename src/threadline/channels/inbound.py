"""The inbound edge for webhook channels: verify the raw bytes, store, commit, acknowledge, then process.

Processing happens in a worker (`process_inbound_event_task`) in one transaction with the
InboundEvent's state change, so each accepted payload is processed exactly once even across crashes.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from threadline.channels import intake
from threadline.channels.actions import note_event_received
from threadline.channels.base import (
    CallEvent,
    ChannelError,
    DeliveryStatusUpdate,
    InboundMessage,
    InboundRequest,
    InboundRoute,
    PayloadError,
    PublicItemEvent,
    TransientSendError,
    VerificationError,
)
from threadline.channels.events import InboundEventFailed
from threadline.channels.models import Channel, InboundEvent
from threadline.channels.registry import ADAPTERS, adapter_for
from threadline.core import jsonsafe
from threadline.core.errors import ThreadlineError
from threadline.core.json_answers import json_error as _error
from threadline.core.json_answers import refuse_oversized
from threadline.core.prepared import Prepared
from threadline.core.row_writes import create, insert_rows, save_fields
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.jobs.registry import Retry, task
from threadline.redaction.ingest import redact_inbound_event

logger = logging.getLogger(__name__)
PARKED = "parked:"  # idempotency key prefix of a payload kept but applied nowhere (see `park_inbound`)
_ACTIVE_CHANNEL = Prepared(lambda pk, kind: Channel.objects.filter(pk=pk, kind=kind, is_active=True))
_STORED_EVENT = Prepared(lambda pk: InboundEvent.objects.select_related("channel__workspace").filter(pk=pk))


def to_inbound_request(request: HttpRequest) -> InboundRequest:
    return InboundRequest(
        body=request.body,
        headers={k.lower(): v for k, v in request.headers.items()},
        method=request.method or "POST",
        query={k: request.GET.get(k, "") for k in request.GET},
        url=settings.PUBLIC_URL + request.get_full_path(),
    )


@csrf_exempt
def webhook_view(request: HttpRequest, kind: str, channel_id: int) -> HttpResponse:
    if kind not in ADAPTERS:
        return _error(404, "unknown_channel_kind", _("No such channel kind."))
    channel = _ACTIVE_CHANNEL.first(int(channel_id), kind)
    if channel is None:
        return _error(404, "channel_not_found", _("No such channel."))
    adapter = adapter_for(kind)
    if request.method == "GET" and hasattr(adapter, "handshake"):
        return adapter.handshake(to_inbound_request(request), channel)
    if hasattr(adapter, "handle_sync"):  # the answer is computed now (voice TwiML); the adapter stores the event
        return adapter.handle_sync(to_inbound_request(request), channel)
    if request.method != "POST":
        return _error(405, "method_not_allowed", _("Use POST."))
    inbound = to_inbound_request(request)
    refused = refuse_oversized(inbound.body)
    if refused is not None:
        return refused
    if jsonsafe.looks_like_json(inbound.body):
        try:  # a body nested past the limit would crash the adapter's own json.loads (RecursionError)
            inbound = dataclasses.replace(inbound, parsed=jsonsafe.loads(inbound.body))
        except jsonsafe.TooDeep as exc:
            return _error(400, "invalid_payload", str(exc))
        except jsonsafe.Unreadable:
            pass  # the adapter says what is wrong with it
    try:
        adapter.verify(inbound, channel)
        if hasattr(adapter, "route"):  # one callback URL for several accounts: each part to its owner
            routes = adapter.route(inbound, channel)
        else:
            routes = [InboundRoute(channel, adapter.idempotency_key(inbound, channel))]
    except VerificationError as exc:
        return _error(401, "invalid_signature", str(exc) or _("The signature does not match."))
    except PayloadError as exc:
        return _error(400, "invalid_payload", str(exc))
    headers = {k: v for k, v in inbound.headers.items() if k != "cookie"}
    stored = [accept_inbound(route.channel, route.key, inbound.body, headers) if route.channel is not None
              else park_inbound(channel, route.key, inbound.body, headers, route.reason) for route in routes]
    ids = [event.pk for event, _created in stored if event is not None]
    answer = {"inbound_event_id": ids[0] if ids else None}
    if len(stored) > 1:
        answer["inbound_event_ids"] = ids
    if not any(created for _event, created in stored):
        return JsonResponse({"status": "duplicate", **answer}, status=200)
    return JsonResponse({"status": "accepted", **answer}, status=202)


def accept_inbound(
    channel: Channel, key: str, body: bytes, headers: dict[str, Any], *, queue: bool = True
) -> tuple[InboundEvent | None, bool]:
    """Store a raw payload and enqueue its processing in one committed transaction (every edge's step).

    Returns the event and True when it is new; for a duplicate key, the stored event (or None when it
    vanished meanwhile) and False. Database errors propagate: the edge then answers "try again later".
    On a SQLite file database with the intake on (ADR 0008), outside a caller's transaction, the payload is
    committed to the intake instead, and the event returned is not saved yet: a worker moves it. `queue=False`
    for a caller that keeps the event's id in a row of its own (the portal's submission).
    """
    if queue and intake.accepting():
        return intake.accept(channel, key[:255], body, headers)
    try:
        with transaction.atomic():
            event = create(InboundEvent, workspace_id=channel.workspace_id, channel=channel, idempotency_key=key[:255],
                           body=body, headers=headers)
            process_inbound_event_task.enqueue(event.pk, unique_key=f"inbound:{event.pk}", fresh=True)
            note_event_received(channel)
    except IntegrityError:
        return InboundEvent.objects.filter(channel=channel, idempotency_key=key[:255]).first(), False
    return event, True


def store_moved(channel: Channel, row: intake.Row) -> InboundEvent:
    """An intake row's event and its job, with the id given at its acknowledgement (in the move's savepoint:
    an `IntegrityError` means it was moved already). The job is due since the acknowledgement."""
    event = create(InboundEvent, id=row.event_id, workspace_id=channel.workspace_id, channel=channel,
                   idempotency_key=row.key, body=row.body, headers=row.headers)
    process_inbound_event_task.enqueue(event.pk, unique_key=f"inbound:{event.pk}", fresh=True,
                                       run_after=row.received_at)
    return event


def park_inbound(
    channel: Channel, key: str, body: bytes, headers: dict[str, Any], reason: str
) -> tuple[InboundEvent | None, bool]:
    """Keep an authentic payload nothing may apply (no channel owns it) as a `failed` event with the reason.

    Acknowledged like any other (the provider must not retry it forever), visible and replayable after a fix.
    """
    key = (PARKED + key)[:255]
    try:
        with transaction.atomic():
            event = InboundEvent.objects.create(
                workspace_id=channel.workspace_id, channel=channel, idempotency_key=key, body=body,
                headers=headers, state=InboundEvent.State.FAILED, error_code="no_channel", error=reason[:4000],
            )
            _failed(event)
    except IntegrityError:
        return InboundEvent.objects.filter(channel=channel, idempotency_key=key).first(), False
    logger.warning("inbound payload on channel %s parked: %s", channel.pk, reason)
    return event, True


def _reroute(event: InboundEvent, adapter: Any, request: InboundRequest) -> str:
    """A parked event processed again (replayed after a fix): store each part with the channel that owns it
    now; the reason it stays parked, or "" when every part found its channel."""
    routes = adapter.route(request, event.channel)
    for route in routes:
        if route.channel is not None:
            accept_inbound(route.channel, route.key, request.body, event.headers)
    return next((route.reason for route in routes if route.channel is None), "")


def process_event(event: InboundEvent) -> str:
    """Parse and apply one stored event; the caller holds the transaction. Returns why it stays parked
    (a parked event whose parts still have no channel), else ""."""
    from threadline.conversations.actions import do_record_delivery_status, receive_inbound_message

    channel = event.channel
    adapter = adapter_for(channel.kind)
    request = InboundRequest(body=bytes(event.body), headers=event.headers)
    if event.idempotency_key.startswith(PARKED) and hasattr(adapter, "route"):
        return _reroute(event, adapter, request)
    for item in adapter.parse_inbound(request, channel):
        if isinstance(item, InboundMessage):
            _link(event, receive_inbound_message(channel, item))
        elif isinstance(item, DeliveryStatusUpdate):
            _link(event, do_record_delivery_status(channel, item, received_at=event.created_at))
        elif isinstance(item, CallEvent):
            from threadline.conversations.calls import do_record_call_event

            _link(event, do_record_call_event(channel, item))
        elif isinstance(item, PublicItemEvent):
            from threadline.social.actions import receive_public_item

            public = receive_public_item(channel, item)
            if public is not None and public.contact_id:
                event.contacts.add(public.contact_id)
    redact_inbound_event(event)
    return ""


def _link(event: InboundEvent, row: Any) -> None:
    """Remember whose data the payload holds (a message or call event's contact), so erasing them finds it."""
    if row is not None:  # as `event.contacts.add(…)` does it (no m2m_changed receivers), the SQL compiled once
        contact_id = getattr(row, "author_contact_id", None) or row.conversation.contact_id
        insert_rows([InboundEvent.contacts.through(inboundevent_id=event.pk, contact_id=contact_id)], conflicts="ignore")


MAX_ATTEMPTS = 5  # passing errors (a provider's 5xx while fetching media, a locked database) before giving up


def _give_up(event: InboundEvent, code: str, reason: str) -> None:
    """The event needs a person: failed, with a reason an admin can act on; listed until replayed."""
    event.state, event.error_code, event.error = InboundEvent.State.FAILED, code[:64], reason[:4000]
    event.save(update_fields=["state", "error_code", "error", "attempts", "updated_at"])
    _failed(event)
    logger.warning("inbound event %s needs attention (%s): %s", event.pk, code, reason)


def _failed(event: InboundEvent) -> None:
    """Tell subscribers (outbound webhooks, the workspace's live view) that an event needs attention."""
    publish(InboundEventFailed(workspace_id=event.workspace_id, inbound_event_id=event.pk,
                               channel_id=event.channel_id, channel_kind=event.channel.kind,
                               error_code=event.error_code, reason=event.error[:1000]))


@task(max_attempts=MAX_ATTEMPTS + 2, batch=True)
def process_inbound_event_task(event_id: int) -> None:
    """Process a stored InboundEvent once; it ends `processed`, or `failed` with a human reason.

    Passing errors are retried with backoff, up to MAX_ATTEMPTS; anything else (a payload this code cannot
    store, a provider refusing a media download, a bug) fails the event at once: it is listed as "needs
    attention" with its payload kept, and an admin replays it after the fix. Never a silent dead job.
    """
    retry: str | None = None
    with transaction.atomic(savepoint=False):  # the worker runs it in a savepoint of its batch
        event = _STORED_EVENT.one(event_id)
        if event is None or event.state != InboundEvent.State.RECEIVED:
            return
        try:
            with transaction.atomic():
                parked = process_event(event)
        except (TransientSendError, DatabaseError) as exc:
            event.attempts += 1
            if event.attempts >= MAX_ATTEMPTS:
                _give_up(event, "gave_up", _("Still failing after %(n)d attempts: %(error)s")
                         % {"n": event.attempts, "error": exc})
                return
            event.error_code, event.error = "retrying", str(exc)[:4000]
            event.save(update_fields=["attempts", "error_code", "error", "updated_at"])
            retry = str(exc)
        except ThreadlineError as exc:
            _give_up(event, exc.code, str(exc))
            return
        except PayloadError as exc:
            _give_up(event, "invalid_payload", _("The payload could not be read: %(error)s") % {"error": exc})
            return
        except ChannelError as exc:  # e.g. the provider refused a media download (401): fix the channel, replay
            _give_up(event, "provider_refused", str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a bug must not become a silent dead job
            logger.exception("inbound event %s crashed", event_id)
            _give_up(event, "processing_error", _("Processing crashed: %(error)s")
                     % {"error": f"{type(exc).__name__}: {exc}"})
            return
        else:
            if parked:  # parts of the payload still belong to no channel
                _give_up(event, "no_channel", parked)
                return
            event.state, event.processed_at = InboundEvent.State.PROCESSED, now()
            event.error_code, event.error = "", ""
            save_fields(event, ["state", "processed_at", "error_code", "error", "updated_at"])
    if retry is not None:
        raise Retry(retry)


__all__ = ["accept_inbound", "park_inbound", "process_inbound_event_task", "refuse_oversized", "webhook_view"]
