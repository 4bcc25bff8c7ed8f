"""Delivering agents' replies through the channel's adapter, with retries and backoff.

The Delivery row counts attempts; transient errors are retried by the job queue with exponential backoff
until MAX_ATTEMPTS, then the message is marked failed with the last reason so an agent sees it. An adapter
that crashes while building or sending (any exception that is not a channel error, a network error or a
database error) fails the message at once with the error as its reason: it never stays `queued` in a
silent retry loop.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.utils.translation import gettext as _

from threadline.channels.base import (
    ChannelError,
    OutboundMessage,
    PermanentSendError,
    RateLimited,
    TransientSendError,
)
from threadline.channels.models import Delivery
from threadline.channels.registry import adapter_for
from threadline.conversations.events import MessageStatusChanged
from threadline.conversations.models import DeliveryStatus, Message
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.jobs.registry import BatchJobScope, Retry, task

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Errors an adapter let through that may pass by themselves; anything else it raises is permanent.
TRANSIENT_ERRORS = (ConnectionError, TimeoutError, socket.gaierror, OperationalError, InterfaceError)


def build_outbound(message: Message, *, in_reply_to: str | None = None) -> OutboundMessage:
    """The adapter's view of `message`; `in_reply_to` (the provider id of the customer's latest message on that
    channel in that conversation) when the caller read it already, for a batch (`last_inbound_ids`)."""
    identity = message.identity
    if in_reply_to is None:
        last_inbound = (
            Message.objects.filter(conversation_id=message.conversation_id, channel_id=message.channel_id,
                                   direction="in")
            .exclude(provider_message_id="").order_by("-created_at", "-id").first()
        )
        in_reply_to = last_inbound.provider_message_id if last_inbound else ""
    return OutboundMessage(
        message_id=message.pk, conversation_id=message.conversation_id,
        recipient_kind=identity.kind if identity else "", recipient_address=identity.address if identity else "",
        text=message.text, html=message.html, subject=message.conversation.subject,
        in_reply_to=in_reply_to,
        thread_key=message.conversation.thread_key if message.conversation.origin_channel_id == message.channel_id
        else "",
        metadata={"attachments": [
            {"id": a.pk, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments.all()
        ], "choices": (message.metadata or {}).get("choices") or [], "language": message.language,
            # a private reply to a public comment (social): sent to the comment, not to an address
            "private_reply_to": (message.metadata or {}).get("private_reply_to", "")},
        template=(message.metadata or {}).get("template"),
    )


def last_inbound_ids(messages: list[Message]) -> dict[tuple[int, int | None], str]:
    """`build_outbound`'s `in_reply_to` for many messages in one read: per (conversation, channel), the provider
    id of the customer's latest message there ("" when none)."""
    found: dict[tuple[int, int | None], str] = {(m.conversation_id, m.channel_id): "" for m in messages}
    rows = (Message.objects.filter(conversation_id__in={m.conversation_id for m in messages}, direction="in")
            .exclude(provider_message_id="").order_by("created_at", "id")
            .values_list("conversation_id", "channel_id", "provider_message_id"))
    for conversation_id, channel_id, provider_id in rows:
        if (conversation_id, channel_id) in found:
            found[(conversation_id, channel_id)] = provider_id  # the latest wins
    return found


def _describe(exc: Exception) -> str:
    """The error for an agent: its kind and message, without a server path (an OSError's filename)."""
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"{type(exc).__name__}: {detail}"[:1000]


def _finish(delivery: Delivery, state: str, *, status: str, reason: str = "", provider_id: str = "") -> None:
    with transaction.atomic():
        delivery.state = state
        delivery.last_error = reason[:4000]
        delivery.save(update_fields=["state", "last_error", "attempts", "updated_at"])
        message = delivery.message
        values: dict[str, object] = {"status": status, "status_reason": reason[:2000], "updated_at": now()}
        if provider_id:
            values["sent_at"] = values["updated_at"]
            taken = Message.objects.filter(channel_id=message.channel_id, provider_message_id=provider_id).exclude(
                pk=message.pk).exists()
            if taken:
                # The provider reused an id: the message *was* sent, so record that rather than fail the job
                # (a retry would send it a second time); keep the id for the record only.
                values["metadata"] = {**(message.metadata or {}), "provider_message_id_reused": provider_id}
            else:
                values["provider_message_id"] = provider_id
        rows = Message.objects.filter(pk=message.pk)
        if status != DeliveryStatus.FAILED:
            # the customer's receipt may have come before this write (a web chat reply reaches the widget inside
            # adapter.send, and the widget answers `read` at once): a status further on is kept, by one
            # conditional UPDATE (no read first), and only the rest is written then
            rows = rows.exclude(status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.READ])
        moved = rows.update(**values) == 0
        if moved:
            del values["status"], values["status_reason"]
            Message.objects.filter(pk=message.pk).update(**values)
        for field, value in values.items():
            setattr(message, field, value)
        if not moved:
            publish(MessageStatusChanged(workspace_id=message.workspace_id, message_id=message.pk,
                                         conversation_id=message.conversation_id, status=status, reason=reason))


@task(max_attempts=MAX_ATTEMPTS + 1)
def deliver_message_task(message_id: int) -> None:
    """Send one queued message; safe to run again (a sent delivery is left alone)."""
    delivery = Delivery.objects.select_related("message__conversation", "message__identity", "channel").filter(
        message_id=message_id
    ).first()
    if delivery is None or delivery.state != Delivery.State.PENDING:
        return
    retry = _attempt(delivery, _finish)
    if retry is not None:
        raise retry


def _attempt(delivery: Delivery, finish: Callable[..., None], in_reply_to: str | None = None) -> Retry | None:
    """Send `delivery`'s message once; `finish` records a final outcome (sent or failed, as `_finish`).
    Returns the Retry to raise when the error may pass by itself and attempts are left."""
    message_id = delivery.message_id
    delivery.attempts += 1
    # in flight from now (next_attempt_at empty) until an outcome or a wait is written: a provider's status that
    # overtakes this send's write of its id is tried again meanwhile (conversations.do_record_delivery_status)
    Delivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts, next_attempt_at=None, updated_at=now())
    adapter = adapter_for(delivery.channel.kind)
    try:
        try:
            result = adapter.send(build_outbound(delivery.message, in_reply_to=in_reply_to), delivery.channel)
        except ChannelError:
            raise
        except TRANSIENT_ERRORS as exc:  # a network or database hiccup outside the adapter's own handling
            raise TransientSendError(f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - building or sending crashed: trying again cannot help
            logger.exception("message %s: the %s adapter failed", message_id, delivery.channel.kind)
            raise PermanentSendError(_("This message could not be sent: %(error)s") % {"error": _describe(exc)}) from exc
    except PermanentSendError as exc:
        finish(delivery, Delivery.State.FAILED, status=DeliveryStatus.FAILED, reason=str(exc))
        return None
    except TransientSendError as exc:
        if delivery.attempts >= MAX_ATTEMPTS:
            reason = _("Gave up after %(n)d attempts: %(e)s") % {"n": delivery.attempts, "e": exc}
            finish(delivery, Delivery.State.FAILED, status=DeliveryStatus.FAILED, reason=reason)
            return None
        after = exc.retry_after if isinstance(exc, RateLimited) else None
        Delivery.objects.filter(pk=delivery.pk).update(last_error=str(exc)[:4000], next_attempt_at=now())  # waiting
        retry = Retry(str(exc), after=after)
        retry.__cause__ = exc
        return retry
    except ChannelError as exc:  # any other channel error from a send is a failure to show, not to retry
        finish(delivery, Delivery.State.FAILED, status=DeliveryStatus.FAILED, reason=str(exc))
        return None
    finish(delivery, Delivery.State.SENT, status=result.status or DeliveryStatus.SENT,
           provider_id=result.provider_message_id)
    if result.recipient_address and delivery.message.identity is not None:
        _learn_recipient(delivery.message, result.recipient_address)
    return None


BATCH_RATE_WAIT = 60.0  # seconds a channel that said "too many" without saying how long is left alone


@task(max_attempts=MAX_ATTEMPTS + 1)
def deliver_messages_task(message_ids: list[int]) -> None:
    """Send many queued messages (a campaign's batch) as `deliver_message_task` sends one, in one job.

    Each outcome commits on its own, with the `message.status_changed` it publishes dispatched to the durable
    subscribers in that same transaction (no job per event): a worker killed mid-batch loses nothing, and its
    job, run again, skips the messages already recorded (at most the one in flight goes twice, as with one
    job per message). A message whose error may pass goes on alone in `deliver_message_task`'s retries with
    backoff; a channel that answers "too many" (RateLimited) is not asked again by this batch: its remaining
    messages are scheduled (`next_attempt_at`) in one job for when the provider said, not retried one by one."""
    deliveries = list(Delivery.objects.select_related("message__conversation", "message__identity", "channel")
                      .prefetch_related("message__attachments")
                      .filter(message_id__in=message_ids, state=Delivery.State.PENDING).order_by("message_id"))
    replies_to = last_inbound_ids([d.message for d in deliveries]) if deliveries else {}
    paused: dict[int, dt.datetime] = {}
    later: list[Delivery] = []
    for delivery in deliveries:
        if delivery.channel_id in paused:
            later.append(delivery)
            continue
        retry = _attempt(delivery, _finish_and_dispatch,
                         replies_to.get((delivery.message.conversation_id, delivery.message.channel_id), ""))
        if retry is None:
            continue
        if isinstance(retry.__cause__, RateLimited):
            paused[delivery.channel_id] = now() + dt.timedelta(seconds=retry.after or BATCH_RATE_WAIT)
            later.append(delivery)
            continue
        from threadline.jobs.worker import backoff_seconds

        with transaction.atomic():  # this one alone, with the backoff of its own job's retries
            deliver_message_task.enqueue(delivery.message_id, unique_key=f"deliver:{delivery.message_id}",
                                         delay=backoff_seconds(delivery.attempts))
    if later:
        with transaction.atomic():
            for channel_id, when in paused.items():
                ids = [d.message_id for d in later if d.channel_id == channel_id]
                Delivery.objects.filter(message_id__in=ids, state=Delivery.State.PENDING).update(
                    next_attempt_at=when)
                deliver_messages_task.enqueue(ids, run_after=when,
                                              unique_key=f"deliver:batch:{ids[0]}:{when.isoformat()}")


def _finish_and_dispatch(delivery: Delivery, state: str, **outcome: Any) -> None:
    """`_finish`, with the durable subscribers of the event it publishes run in the same transaction."""
    with transaction.atomic(), BatchJobScope() as scope:
        _finish(delivery, state, **outcome)
        scope.run_followers()


def _learn_recipient(message: Message, address: str) -> None:
    """The provider named the recipient anew (a private reply to a comment answers with the person's
    Page-scoped id): kept as an identity of the same contact, so their answer threads into this conversation.
    An id another contact already has is left alone (agents merge the two)."""
    from threadline.contacts.actions import do_add_identity
    from threadline.contacts.models import ContactIdentity
    from threadline.core.errors import Conflict

    identity = message.identity
    if identity is None or identity.address == address:
        return
    if ContactIdentity.objects.filter(workspace_id=message.workspace_id, kind=identity.kind, address=address).exists():
        return
    with transaction.atomic():
        try:
            do_add_identity(identity.contact, identity.kind, address, verified=True, source="private_reply",
                            display_name=identity.display_name, suggest=False)
        except Conflict:
            return
