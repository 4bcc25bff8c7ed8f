"""Delivering agents' replies through the channel's adapter, with retries and backoff.

The Delivery row counts attempts; transient errors are retried by the job queue with exponential backoff
until MAX_ATTEMPTS, then the message is marked failed with the last reason so an agent sees it. An adapter
that crashes while building or sending (any exception that is not a channel error, a network error or a
database error) fails the message at once with the error as its reason: it never stays `queued` in a
silent retry loop.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import queue
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from threadline.channels.base import (
    ChannelError,
    DeliveryResult,
    OutboundMessage,
    PermanentSendError,
    RateLimited,
    TransientSendError,
)
from threadline.channels.models import Delivery
from threadline.channels.registry import adapter_for
from threadline.conversations.events import MessageStatusChanged
from threadline.conversations.models import DeliveryStatus, Message, statuses_from
from threadline.core import batch_cache, crypto
from threadline.core.sqlite.base import statement_turn
from threadline.core.time import now
from threadline.events.bus import publish, publish_many
from threadline.jobs.registry import BatchJobScope, Postpone, Retry, gathered_done, task

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SEND_TOGETHER = 16  # ready deliveries a worker claims and sends at once (`deliver_message_jobs`)
SEND_THREADS = 8  # providers' requests in flight at once per process
ORDER_WAIT = 0.3  # seconds a message waits for an earlier one of its conversation still being sent
ORDER_STALE = dt.timedelta(minutes=10)  # an earlier message pending longer untouched is not waited for
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
        idempotency_key=delivery_key(message),
    )


def delivery_key(message: Message) -> str:
    """`OutboundMessage.idempotency_key`: one per channel, message and agent's retry of a failed reply
    (`conversations.redelivery`), the same on every automatic attempt, a run after a crash included."""
    return crypto.idempotency_key("delivery", message.channel_id, message.pk,
                                  (message.metadata or {}).get("retries", 0))


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


@dataclass
class _Written:
    """What `deliver_message_jobs` writes for the sends that returned together: the deliveries finished, their
    events, and the provider ids already taken (by channel and id: the message holding it)."""

    deliveries: list[Delivery] = field(default_factory=list)
    events: list[MessageStatusChanged] = field(default_factory=list)
    taken: dict[tuple[int | None, str], int] = field(default_factory=dict)

    @classmethod
    def reading(cls, returned: list[tuple[Delivery, Any]]) -> _Written:
        """For the sends `returned`: the provider ids they got that a message holds already, in one read."""
        group = cls()
        ids = {(d.channel_id, r.provider_message_id) for d, r in returned
               if isinstance(r, DeliveryResult) and r.provider_message_id}
        if ids:
            for channel_id, provider_id, pk in Message.objects.filter(
                    channel_id__in={c for c, _p in ids}, provider_message_id__in={p for _c, p in ids}).values_list(
                    "channel_id", "provider_message_id", "pk"):
                group.taken[(channel_id, provider_id)] = pk
        return group

    def write(self) -> None:
        """The finished deliveries' rows, one UPDATE per outcome (their attempts were written in flight), and
        their events' outbox rows in one INSERT."""
        by_outcome: dict[tuple[str, str], list[int]] = {}
        for delivery in self.deliveries:
            by_outcome.setdefault((delivery.state, delivery.last_error), []).append(delivery.pk)
        moment = now()
        for (state, error), pks in by_outcome.items():
            Delivery.objects.filter(pk__in=pks).update(state=state, last_error=error, updated_at=moment)
        publish_many(self.events)


def _finish(delivery: Delivery, state: str, *, status: str, reason: str = "", provider_id: str = "",
            group: _Written | None = None) -> None:
    """Record a final outcome: the delivery's state, the message's status and provider id, `message.status_changed`.
    With `group` (`deliver_message_jobs`), the delivery row and the event are left there for the caller to
    write with the others finished at the same time, and the provider ids already taken were read for them."""
    with transaction.atomic(savepoint=False):  # in the caller's transaction when there is one
        delivery.state = state
        delivery.last_error = reason[:4000]
        if group is None:
            delivery.save(update_fields=["state", "last_error", "attempts", "updated_at"])
        else:
            group.deliveries.append(delivery)
        message = delivery.message
        values: dict[str, object] = {"status": status, "status_reason": reason[:2000], "updated_at": now()}
        if provider_id:
            values["sent_at"] = values["updated_at"]
            if group is None:
                taken = Message.objects.filter(channel_id=message.channel_id, provider_message_id=provider_id).exclude(
                    pk=message.pk).exists()
            else:
                taken = group.taken.setdefault((message.channel_id, provider_id), message.pk) != message.pk
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
            rows = rows.exclude(status__in=statuses_from(status))
        moved = rows.update(**values) == 0
        if moved:
            del values["status"], values["status_reason"]
            Message.objects.filter(pk=message.pk).update(**values)
        for field, value in values.items():
            setattr(message, field, value)
        if not moved:
            event = MessageStatusChanged(workspace_id=message.workspace_id, message_id=message.pk,
                                         conversation_id=message.conversation_id, status=status, reason=reason)
            if group is None:
                publish(event)
            else:
                group.events.append(event)


@task(max_attempts=MAX_ATTEMPTS + 1, gather=SEND_TOGETHER)
def deliver_message_task(message_id: int) -> None:
    """Send one queued message; safe to run again (a sent delivery is left alone). A worker runs the ready
    jobs of this task together (`deliver_message_jobs`); this is the path of one job run alone."""
    delivery = Delivery.objects.select_related("message__conversation", "message__identity", "channel").filter(
        message_id=message_id
    ).first()
    if delivery is None or delivery.state != Delivery.State.PENDING:
        return
    retry = _attempt(delivery, _finish)
    if retry is not None:
        raise retry


@deliver_message_task.gathered
def deliver_message_jobs(calls: list[list[Any]]) -> list[Exception | None]:
    """Send the messages of many ready `deliver_message_task` jobs at once (issue 11: a reply's send waited for
    the one before it). The deliveries are read in one statement and marked in flight in one; the provider
    requests go out concurrently (SEND_THREADS), those of one conversation one after the other, in order; each
    outcome is written as soon as its send returns, in a short transaction with the others that returned
    meanwhile, the configuration of the subscribers of the `message.status_changed` each publishes read once
    for the batch (no dispatch job when none has work, as outside a batch). A message of a conversation whose
    earlier message is still being sent elsewhere (another worker's batch, or its first attempt not made yet)
    is postponed, not sent ahead of it. One outcome per call: None (done), a Retry (backoff, as the job
    alone), or Postpone; the jobs are marked done with the last outcomes.

    A worker killed while requests are in flight loses no message: its jobs run again once their lease is
    handed back (at once by the next worker of the host, `recover_orphans`), and only the messages whose send
    had not returned, at most SEND_THREADS, are sent again: the outcomes of the sends that had returned are
    committed. Those sent again carry the same `OutboundMessage.idempotency_key`, which the providers that
    document one are given (docs/channels/adding-a-channel.md, Idempotency)."""
    ids = [int(args[0]) for args in calls]
    outcomes: dict[int, Exception | None] = dict.fromkeys(ids)
    deliveries = list(Delivery.objects.select_related("message__conversation", "message__identity", "channel")
                      .prefetch_related("message__attachments")
                      .filter(message_id__in=ids, state=Delivery.State.PENDING).order_by("message_id"))
    waiting = _behind_earlier_sends(deliveries)
    for delivery in deliveries:
        if delivery.message_id in waiting:
            outcomes[delivery.message_id] = Postpone("an earlier message of its conversation is being sent",
                                                     after=ORDER_WAIT)
    ready = [delivery for delivery in deliveries if delivery.message_id not in waiting]
    if not ready:
        return [outcomes[message_id] for message_id in ids]
    replies_to = last_inbound_ids([d.message for d in ready])
    _mark_in_flight(ready)
    answer: list[Exception | None] = []
    left = len(ready)
    # the subscribers' configuration (`interested`: webhooks, campaigns) read once for the batch; a subscriber
    # with work gets its dispatch job as outside a batch, so its failure never undoes the outcomes
    with batch_cache.scope():
        for returned in _sends_as_they_return(ready, replies_to):
            left -= len(returned)
            with transaction.atomic(savepoint=False):  # these outcomes now (inside a test's transaction: in it)
                group = _Written.reading(returned)
                finish = functools.partial(_finish, group=group)
                for delivery, sent in returned:
                    if isinstance(sent, Exception) and not isinstance(sent, ChannelError):
                        outcomes[delivery.message_id] = sent  # a defect, not a send's answer: the job's failure
                        continue
                    outcomes[delivery.message_id] = _record(delivery, sent, finish)
                group.write()
                if not left:
                    answer = [outcomes[message_id] for message_id in ids]
                    gathered_done(answer)  # the jobs' completion commits with the last outcomes
    return answer


def _mark_in_flight(deliveries: list[Delivery]) -> None:
    """A batch's deliveries in flight from now on (see `_attempt`), their attempt counted, in one statement
    committed at once."""
    with statement_turn(transaction.get_connection()):
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
            attempts=F("attempts") + 1, next_attempt_at=None, updated_at=now())
    for delivery in deliveries:
        delivery.attempts += 1


def _behind_earlier_sends(deliveries: list[Delivery]) -> set[int]:
    """The messages of `deliveries` that must wait for an earlier message of their conversation which is not
    among them and is still to be sent or in flight (pending, not waiting for a retry, touched lately)."""
    if not deliveries:
        return set()
    mine = {d.message_id for d in deliveries}
    earliest: dict[int, int] = {}
    for message_id, conversation_id in (
            Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__isnull=True,
                                    updated_at__gte=now() - ORDER_STALE, message_id__lt=max(mine),
                                    message__conversation_id__in={d.message.conversation_id for d in deliveries})
            .exclude(message_id__in=mine).values_list("message_id", "message__conversation_id")):
        earliest[conversation_id] = min(message_id, earliest.get(conversation_id, message_id))
    return {d.message_id for d in deliveries
            if d.message_id > earliest.get(d.message.conversation_id, d.message_id)}


def _sends_as_they_return(deliveries: list[Delivery], replies_to: dict[tuple[int, int | None], str]) -> Iterator[
        list[tuple[Delivery, Any]]]:
    """Each delivery's send (`_send`: the provider's result or the channel error) as soon as it returns, with
    those that returned meanwhile: the conversations' sends concurrently on the sender threads, each
    conversation's in order (outside a transaction; inside one, as in tests, or for one conversation, in this
    thread, one at a time). A channel that answers "too many" is not asked again by this batch. An error that is
    not a send's answer (a defect) is the answer of the rest of its conversation's deliveries."""
    groups: dict[int, list[Delivery]] = {}
    for delivery in deliveries:
        groups.setdefault(delivery.message.conversation_id, []).append(delivery)
    paused: dict[int, RateLimited] = {}

    def send_one(delivery: Delivery) -> DeliveryResult | ChannelError:
        limited = paused.get(delivery.channel_id)
        if limited is not None:
            return NotAsked(str(limited), retry_after=limited.retry_after)
        result = _send(delivery, replies_to.get((delivery.message.conversation_id, delivery.message.channel_id), ""))
        if isinstance(result, RateLimited):
            paused[delivery.channel_id] = result
        return result

    if len(groups) == 1 or transaction.get_connection().in_atomic_block:
        for group in groups.values():
            for delivery in group:
                yield [(delivery, send_one(delivery))]
        return
    returned: queue.SimpleQueue[tuple[Delivery, Any]] = queue.SimpleQueue()

    def send_group(group: list[Delivery]) -> None:
        done = 0
        try:
            for delivery in group:
                returned.put((delivery, send_one(delivery)))
                done += 1
        except Exception as exc:  # noqa: BLE001 - handed to the batch, which records it as the jobs' failure
            logger.exception("sending message %s failed outside its adapter", group[done].message_id)
            for delivery in group[done:]:
                returned.put((delivery, exc))
        finally:
            connections.close_all()  # this thread's, if an adapter read the database

    for group in groups.values():
        _senders().submit(send_group, group)
    left = len(deliveries)
    while left:
        found = [returned.get()]
        while True:
            try:
                found.append(returned.get_nowait())
            except queue.Empty:
                break
        left -= len(found)
        yield found


class NotAsked(RateLimited):
    """The answer `_sends_as_they_return` gives for a message it did not send: its channel had said "too many"
    to another send of the batch."""


_SENDERS: list[ThreadPoolExecutor] = []
_SENDERS_LOCK = threading.Lock()


def _senders() -> ThreadPoolExecutor:
    """The threads of this process that send providers' requests for `deliver_message_jobs`."""
    with _SENDERS_LOCK:
        if not _SENDERS:
            _SENDERS.append(ThreadPoolExecutor(SEND_THREADS, thread_name_prefix="threadline-send"))
        return _SENDERS[0]


def _attempt(delivery: Delivery, finish: Callable[..., None], in_reply_to: str | None = None) -> Retry | None:
    """Send `delivery`'s message once; `finish` records a final outcome (sent or failed, as `_finish`).
    Returns the Retry to raise when the error may pass by itself and attempts are left."""
    delivery.attempts += 1
    # in flight from now (next_attempt_at empty) until an outcome or a wait is written: a provider's status that
    # overtakes this send's write of its id is tried again meanwhile (conversations.do_record_delivery_status)
    Delivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts, next_attempt_at=None, updated_at=now())
    return _record(delivery, _send(delivery, in_reply_to), finish)


def _send(delivery: Delivery, in_reply_to: str | None) -> DeliveryResult | ChannelError:
    """The adapter's answer to one send of `delivery`'s message, or the channel error it ended with (any other
    error classified: a network or database hiccup is transient, anything else permanent). Writes nothing."""
    adapter = adapter_for(delivery.channel.kind)
    try:
        try:
            return adapter.send(build_outbound(delivery.message, in_reply_to=in_reply_to), delivery.channel)
        except ChannelError:
            raise
        except TRANSIENT_ERRORS as exc:  # a network or database hiccup outside the adapter's own handling
            raise TransientSendError(f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - building or sending crashed: trying again cannot help
            logger.exception("message %s: the %s adapter failed", delivery.message_id, delivery.channel.kind)
            raise PermanentSendError(_("This message could not be sent: %(error)s") % {"error": _describe(exc)}) from exc
    except ChannelError as exc:
        return exc


def _record(delivery: Delivery, sent: DeliveryResult | ChannelError, finish: Callable[..., None]) -> Retry | None:
    """Write the outcome of one send (`_send`); the Retry to raise when the error may pass and attempts are left."""
    if isinstance(sent, TransientSendError):
        if delivery.attempts >= MAX_ATTEMPTS:
            reason = _("Gave up after %(n)d attempts: %(e)s") % {"n": delivery.attempts, "e": sent}
            finish(delivery, Delivery.State.FAILED, status=DeliveryStatus.FAILED, reason=reason)
            return None
        after = sent.retry_after if isinstance(sent, RateLimited) else None
        Delivery.objects.filter(pk=delivery.pk).update(last_error=str(sent)[:4000], next_attempt_at=now())  # waiting
        retry = Retry(str(sent), after=after)
        retry.__cause__ = sent
        return retry
    if isinstance(sent, ChannelError):  # permanent, or any other channel error from a send: a failure to show
        finish(delivery, Delivery.State.FAILED, status=DeliveryStatus.FAILED, reason=str(sent))
        return None
    finish(delivery, Delivery.State.SENT, status=sent.status or DeliveryStatus.SENT,
           provider_id=sent.provider_message_id)
    if sent.recipient_address and delivery.message.identity is not None:
        _learn_recipient(delivery.message, sent.recipient_address)
    return None


BATCH_RATE_WAIT = 60.0  # seconds a channel that said "too many" without saying how long is left alone


@task(max_attempts=MAX_ATTEMPTS + 1)
def deliver_messages_task(message_ids: list[int]) -> None:
    """Send many queued messages (a campaign's batch) as `deliver_message_task` sends one, in one job.

    The requests go out concurrently, as agents' replies do (`_sends_as_they_return`: SEND_THREADS at once,
    each conversation's in order), the batch marked in flight in one statement. Each outcome commits on its
    own as its send returns, with the `message.status_changed` it publishes dispatched to the durable
    subscribers in that same transaction (no job per event): a worker killed mid-batch loses nothing, and its
    job, run again, skips the messages already recorded (at most those in flight go twice, as with one job per
    message, with the same idempotency key). A message whose error may pass goes on alone in
    `deliver_message_task`'s retries with backoff; a channel that answers "too many" (RateLimited) is not asked
    again by this batch: its messages not sent are scheduled (`next_attempt_at`) in one job for when the
    provider said, not retried one by one, and that attempt is not counted against them."""
    deliveries = list(Delivery.objects.select_related("message__conversation", "message__identity", "channel")
                      .prefetch_related("message__attachments")
                      .filter(message_id__in=message_ids, state=Delivery.State.PENDING).order_by("message_id"))
    if not deliveries:
        return
    replies_to = last_inbound_ids([d.message for d in deliveries])
    _mark_in_flight(deliveries)
    paused: dict[int, dt.datetime] = {}
    later: list[Delivery] = []
    not_sent: list[int] = []
    defect: Exception | None = None
    for returned in _sends_as_they_return(deliveries, replies_to):
        for delivery, sent in returned:
            if isinstance(sent, NotAsked):  # never sent: waits with the channel, the attempt not counted
                later.append(delivery)
                not_sent.append(delivery.pk)
                paused.setdefault(delivery.channel_id, now() + dt.timedelta(seconds=sent.retry_after or BATCH_RATE_WAIT))
                continue
            if isinstance(sent, Exception) and not isinstance(sent, ChannelError):
                defect = defect or sent  # not a send's answer: the job fails and runs again for what is left
                continue
            retry = _record(delivery, sent, _finish_and_dispatch)
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
            Delivery.objects.filter(pk__in=not_sent).update(attempts=F("attempts") - 1)
            for channel_id, when in paused.items():
                ids = [d.message_id for d in later if d.channel_id == channel_id]
                Delivery.objects.filter(message_id__in=ids, state=Delivery.State.PENDING).update(
                    next_attempt_at=when)
                deliver_messages_task.enqueue(ids, run_after=when,
                                              unique_key=f"deliver:batch:{ids[0]}:{when.isoformat()}")
    if defect is not None:
        raise defect


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
