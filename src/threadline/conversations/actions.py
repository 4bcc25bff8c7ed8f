"""Writes for conversations and messages. Callers own the transaction; events publish after commit.

`receive_inbound_message` is the single channel-agnostic entry for every inbound message
(docs/architecture.md, How a message flows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.channels.base import DeliveryStatusUpdate, InboundMessage, StatusBeforeItsMessage
from threadline.channels.models import Channel, Delivery
from threadline.contacts.actions import resolve_sender
from threadline.contacts.models import Contact, ContactIdentity
from threadline.conversations.attachments import check_attachment, do_store_attachment
from threadline.conversations.events import (
    ConversationCreated,
    ConversationMerged,
    ConversationUpdated,
    MessageCreated,
    MessageReceived,
    MessageStatusChanged,
    received_at_key,
)
from threadline.conversations.models import (
    ACTIVE_STATUSES,
    STATUS_ORDER,
    AuthorKind,
    Conversation,
    ConversationEvent,
    DeliveryStatus,
    Direction,
    Message,
    Priority,
    Status,
    Tag,
)
from threadline.core import metrics
from threadline.core.batch_cache import remember
from threadline.core.batch_rows import keep
from threadline.core.errors import Conflict, ValidationFailed
from threadline.core.html import sanitize as sanitize_html
from threadline.core.prepared import Prepared
from threadline.core.row_writes import create, insert_rows, save_fields
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.events.types import DomainEvent
from threadline.redaction.ingest import redact_inbound
from threadline.tenancy.models import Membership, Team
from threadline.tenancy.permissions import Permission, require

MAX_TEXT = 100_000
_PROVIDER_COPY = Prepared(lambda channel_id, provider_id: Message.objects.filter(  # unique together
    channel_id=channel_id, provider_message_id=provider_id))
# a contact's own conversations (not group chats'), for threading: the open one, else the latest
_ACTIVE = Prepared(lambda contact_id: Conversation.objects.filter(
    contact_id=contact_id, merged_into__isnull=True, thread_key="", status__in=ACTIVE_STATUSES,
).order_by("-last_message_at", "-id"))
_LATEST = Prepared(lambda contact_id: Conversation.objects.filter(
    contact_id=contact_id, merged_into__isnull=True, thread_key="").order_by("-created_at", "-id"))
UNSET: Any = object()


def record_event(conversation: Conversation, kind: str, *, actor: Membership | None = None, **data: Any) -> None:
    create(ConversationEvent, workspace_id=conversation.workspace_id, conversation=conversation, kind=kind,
           actor=actor, data=data)


# ── inbound ──────────────────────────────────────────────────────────────────────────────────────────
def _hinted_conversation(channel: Channel, item: InboundMessage) -> tuple[Conversation | None, dict[str, Any]]:
    """A conversation the message names itself: an authenticated reply token, then earlier message ids."""
    workspace_id = channel.workspace_id
    if item.conversation_hint is not None:
        hinted = Conversation.objects.filter(pk=item.conversation_hint, workspace_id=workspace_id).first()
        if hinted is not None:
            while hinted.merged_into_id:
                hinted = hinted.merged_into
            return hinted, {"rule": "conversation_hint", "conversation_id": hinted.pk}
    if item.references:
        references = list(item.references)
        earlier = (_EARLIER.first(workspace_id, references[0]) if len(references) == 1  # the usual reply: prepared
                   else _earlier(workspace_id, references).first())
        if earlier is not None:
            conversation = earlier.conversation
            while conversation.merged_into_id:
                conversation = conversation.merged_into
            return conversation, {"rule": "references", "matched": earlier.provider_message_id}
    return None, {}


def _earlier(workspace_id: int, provider_ids: list[str]) -> QuerySet[Message]:
    """The workspace's messages with these provider ids, newest first, with their conversation."""
    return (Message.objects.filter(workspace_id=workspace_id, provider_message_id__in=provider_ids)
            .select_related("conversation").order_by("-created_at"))


_EARLIER = Prepared(lambda workspace_id, provider_id: _earlier(workspace_id, [provider_id]))


# Inbound messages another domain files on a conversation as they are, without reopening it: "module:function"
# called with (contact, channel, item), answering (conversation, threading reason) or None (a survey answer).
# Named, not imported, like events/registry.py's subscribers: that domain builds on this one.
CLAIMS = ("threadline.surveys.answers:claim",)


def _function(path: str) -> Any:
    module, _sep, attr = path.partition(":")
    return getattr(import_module(module), attr)


def _thread_for(contact: Contact, channel: Channel, item: InboundMessage, *,
                new_contact: bool = False) -> tuple[Conversation, dict[str, Any]]:
    """Where an inbound message goes, and why (stored on the message as `metadata["threading"]`).

    In order: a conversation the message names (reply token, references); the contact's open conversation
    whatever the channel; a solved one within the workspace's reopen window (reopened); else a new one that
    links to the contact's previous conversation. The contact row is locked first, so two messages of one
    contact processed at once never open two conversations (PostgreSQL row lock; SQLite serializes writers).
    A group chat's message (`thread_key`) goes to that group's conversation instead, never the sender's own;
    before anything else, a message another domain claims (`CLAIMS`: a survey answer) goes where it says.
    `new_contact`: the contact was created for this very message, so it has no conversation to look for.
    """
    if connection.features.has_select_for_update:  # SQLite has one writer at a time: nothing to lock
        Contact.objects.select_for_update().filter(pk=contact.pk).values_list("pk", flat=True).first()
    if item.thread_key:
        return _group_conversation(contact, channel, item)
    for path in CLAIMS:
        claimed = _function(path)(contact, channel, item)
        if claimed is not None:
            return claimed
    hinted, reason = _hinted_conversation(channel, item)
    if hinted is not None and hinted.status != Status.CLOSED:
        if hinted.status == Status.SOLVED:
            _reopen(hinted, why=_("customer replied to this conversation"))
        return hinted, reason
    if new_contact:
        return _new_conversation(contact, channel, item, previous=None), {"rule": "new_conversation",
                                                                          "previous_id": None}
    active = _ACTIVE.first(contact.pk)
    if active is not None:
        return active, {"rule": "contact_open_conversation", "conversation_id": active.pk}
    latest = _LATEST.first(contact.pk)
    window = dt.timedelta(days=contact.workspace.reopen_window_days)
    if latest is not None and latest.status == Status.SOLVED and latest.solved_at and now() - latest.solved_at <= window:
        _reopen(latest, why=_("customer wrote within the reopen window"))
        return latest, {"rule": "reopened_within_window", "conversation_id": latest.pk}
    return _new_conversation(contact, channel, item, previous=latest), {
        "rule": "new_conversation", "previous_id": latest.pk if latest else None}


def _group_conversation(contact: Contact, channel: Channel, item: InboundMessage) -> tuple[Conversation, dict[str, Any]]:
    """A group chat's conversation: the one with its key on this channel (reopened when solved; a new one
    after it was closed), whoever of its members writes. The first writer is its contact."""
    Channel.objects.select_for_update().filter(pk=channel.pk).first()  # two members at once: one conversation
    latest = (Conversation.objects.filter(workspace_id=channel.workspace_id, origin_channel=channel,
                                          thread_key=item.thread_key).order_by("-id").first())
    while latest is not None and latest.merged_into_id:
        latest = latest.merged_into
    if latest is not None and latest.status != Status.CLOSED:
        if latest.status == Status.SOLVED:
            _reopen(latest, why=_("a member of the group wrote"))
        return latest, {"rule": "group_conversation", "conversation_id": latest.pk, "thread_key": item.thread_key}
    conversation = _new_conversation(contact, channel, item, previous=latest, thread_key=item.thread_key)
    return conversation, {"rule": "new_group_conversation", "thread_key": item.thread_key}


def _new_conversation(contact: Contact, channel: Channel, item: InboundMessage, *, previous: Conversation | None,
                      thread_key: str = "") -> Conversation:
    conversation = create(
        Conversation, workspace_id=contact.workspace_id, contact=contact, subject=_subject_of(item),
        origin_channel=channel, previous=previous, thread_key=thread_key[:255],
    )
    record_event(conversation, "created", channel_id=channel.pk, channel_kind=channel.kind,
                 previous_id=previous.pk if previous else None)
    publish(ConversationCreated(workspace_id=contact.workspace_id, conversation_id=conversation.pk,
                                contact_id=contact.pk, channel_id=channel.pk,
                                previous_id=previous.pk if previous else None))
    return conversation


def _subject_of(item: InboundMessage) -> str:
    """A new conversation's subject: the message's subject, else the start of its text, on one line (a subject
    becomes a mail header, where a line break cannot go)."""
    return " ".join((item.subject or "").split())[:500] or " ".join(item.text[:200].split())[:80]


def _reopen(conversation: Conversation, *, why: str) -> None:
    old = conversation.status
    conversation.status = Status.OPEN
    conversation.reopened_at = now()
    conversation.save(update_fields=["status", "reopened_at", "updated_at"])
    record_event(conversation, "reopened", old=old, reason=str(why))
    publish(ConversationUpdated(workspace_id=conversation.workspace_id, conversation_id=conversation.pk,
                                changes={"status": Status.OPEN}, actor_id=None))


def receive_inbound_message(channel: Channel, item: InboundMessage) -> Message:
    """Store one inbound message: resolve the contact, thread it, keep it once per provider id.

    Idempotent: the same (channel, provider_message_id) returns the message stored the first time.
    """
    if item.provider_message_id:
        existing = _PROVIDER_COPY.one(channel.pk, item.provider_message_id)
        if existing is not None:
            return existing
    if len(item.text) > MAX_TEXT:
        raise ValidationFailed(_("The message text is too long."), code="text_too_long", field="text")
    item = redact_inbound(channel, item)
    for attachment in item.attachments:
        check_attachment(attachment.filename, attachment.content_type, len(attachment.content))
    sender = resolve_sender(
        channel.workspace, item.sender_kind, item.sender_address, name=item.sender_name,
        verified=item.sender_verified, source=channel.kind,
    )
    conversation, threading = _thread_for(sender.contact, channel, item, new_contact=sender.created_contact)
    message = create(
        Message, workspace_id=channel.workspace_id, conversation=conversation, direction=Direction.INBOUND,
        author_kind=AuthorKind.CONTACT, author_contact=sender.contact, channel=channel, identity=sender.identity,
        provider_message_id=item.provider_message_id, text=item.text, html=item.html,
        status=DeliveryStatus.RECEIVED, sent_at=item.sent_at, metadata={**item.metadata, "threading": threading},
    )
    for attachment in item.attachments:
        do_store_attachment(message, attachment.filename, attachment.content_type, attachment.content)
    moment = now()
    conversation.last_message_at = moment
    conversation.last_inbound_at = moment
    conversation.last_inbound_channel = channel
    fields = ["last_message_at", "last_inbound_at", "last_inbound_channel", "updated_at"]
    if conversation.status in (Status.PENDING, Status.ON_HOLD):
        conversation.status = Status.OPEN
        fields.append("status")
        record_event(conversation, "status_changed", old=Status.PENDING, new=Status.OPEN, reason="customer replied")
    save_fields(conversation, fields)
    _keep_for_subscribers(message, conversation, sender.contact, channel)
    publish_received(message, channel, sender.contact.pk, item.text)
    metrics.INBOUND_MESSAGES.labels(channel.kind).inc()
    return message


def _keep_for_subscribers(message: Message, conversation: Conversation, contact: Contact, channel: Channel) -> None:
    """Hand the message and its conversation as just written (and locked, by the write) to the subscribers of
    this job's events (language, SLA, routing), with the rows they select with them that are at hand
    (`core.batch_rows`)."""
    keep(message)
    related: dict[str, Any] = {"last_inbound_channel": channel}
    if conversation.contact_id == contact.pk:
        related["contact"] = contact
    if conversation.origin_channel_id == channel.pk:
        related["origin_channel"] = channel
    if "workspace" in channel._state.fields_cache:  # noqa: SLF001 - read by the edge or `resolve_sender`
        related["workspace"] = channel.workspace
    keep(conversation, **related)


def publish_received(message: Message, channel: Channel, contact_id: int, text: str) -> None:
    """Publish `message.received` for a stored inbound message, and keep its creation time for the
    subscribers that run in this batch (the SLA timers start then) instead of their reading it back."""
    row = publish(MessageReceived(workspace_id=channel.workspace_id, message_id=message.pk,
                                  conversation_id=message.conversation_id, contact_id=contact_id,
                                  channel_id=channel.pk, channel_kind=channel.kind, text=text[:1000]))
    remember(received_at_key(row.pk), message.created_at)


def do_advance_status(message: Message, status: str, reason: str = "") -> bool:
    """Move one outbound message's status forward, as one conditional UPDATE (a concurrent writer that moved
    it further meanwhile is not overwritten); False when it was already as far or further."""
    if status == DeliveryStatus.FAILED:
        behind = list(STATUS_ORDER)
    else:
        behind = list(STATUS_ORDER[:STATUS_ORDER.index(status)]) if status in STATUS_ORDER else []
    changed = Message.objects.filter(pk=message.pk, status__in=behind).update(
        status=status, status_reason=reason[:2000], updated_at=now())
    if not changed:
        return False
    message.status, message.status_reason = status, reason[:2000]
    publish(MessageStatusChanged(workspace_id=message.workspace_id, message_id=message.pk,
                                 conversation_id=message.conversation_id, status=status, reason=message.status_reason))
    return True


STATUS_WAIT = dt.timedelta(minutes=10)  # a send that began longer before a status is not waited for


def do_record_delivery_status(channel: Channel, update: DeliveryStatusUpdate,
                              received_at: dt.datetime | None = None) -> Message | None:
    """Apply a provider's status callback to the message it concerns; statuses only move forward.

    A status for an id no message has yet, received while a send on the channel that began before it is still
    in flight, may have overtaken that send's write of the id (a provider can call back before its API
    answer is recorded): StatusBeforeItsMessage, so the stored payload is processed again shortly (a status
    of a message sent elsewhere is accepted as unknown once no such send is in flight)."""
    message = Message.objects.filter(channel=channel, provider_message_id=update.provider_message_id,
                                     direction=Direction.OUTBOUND).first()
    if message is None:
        if received_at is not None and Delivery.objects.filter(
                channel=channel, state=Delivery.State.PENDING, attempts__gt=0, next_attempt_at__isnull=True,
                updated_at__lte=received_at, updated_at__gte=received_at - STATUS_WAIT).exists():
            raise StatusBeforeItsMessage(
                _("A status for message %(id)s came before the send recorded it; tried again.")
                % {"id": update.provider_message_id})
        return None
    do_advance_status(message, update.status, update.reason if update.status == DeliveryStatus.FAILED else "")
    return message


# ── agents' writes ───────────────────────────────────────────────────────────────────────────────────
def check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("The message is empty."), code="empty_message", field="text")
    if len(text) > MAX_TEXT:
        raise ValidationFailed(_("The message text is too long."), code="text_too_long", field="text")
    return text


def reply_target(conversation: Conversation, channel: Channel | None, *,
                 last_inbound: dict[int, ContactIdentity | None] | None = None,
                 identities: list[ContactIdentity] | None = None) -> tuple[Channel, ContactIdentity]:
    """The channel and identity a reply goes to: the channel the customer last used unless one is chosen.
    `last_inbound` (from `last_inbound_identities`) and `identities` (the contact's) when the caller has read
    them for several channels at once (reachable_channels)."""
    from threadline.channels.registry import adapter_for

    channel = channel or conversation.last_inbound_channel or conversation.origin_channel
    if channel is None:
        raise ValidationFailed(_("This conversation has no channel to reply on; choose one."),
                               code="no_channel", field="channel_id")
    if channel.workspace_id != conversation.workspace_id or not channel.is_active:
        raise ValidationFailed(_("That channel cannot be used here."), code="channel_unavailable", field="channel_id")
    if last_inbound is not None and channel.pk in last_inbound:
        identity = last_inbound[channel.pk]
    else:
        last = (_LAST_INBOUND_IN_THREAD.first(conversation.pk, channel.pk) if conversation.thread_key
                else _LAST_INBOUND_OF_CONTACT.first(conversation.contact_id, channel.pk))
        identity = last.identity if last is not None else None
    if identity is not None:
        return channel, identity
    kind = adapter_for(channel.kind).identity_kind
    if identities is not None:
        identity = min((i for i in identities if i.kind == kind), key=lambda i: i.pk, default=None)
    else:
        identity = ContactIdentity.objects.filter(contact=conversation.contact, kind=kind).first()
    if identity is None:
        raise ValidationFailed(
            _("The contact has no identity this channel can reach."), code="no_identity", field="channel_id"
        )
    return channel, identity


def _inbound_of(conversation: Conversation) -> QuerySet[Message]:
    """The customer's inbound messages a reply can answer: a group chat's members are not the contact's own
    chats, so each side answers from its own messages."""
    return (_inbound_in_thread(conversation.pk) if conversation.thread_key
            else _inbound_of_contact(conversation.contact_id))


def _inbound_in_thread(conversation_id: int) -> QuerySet[Message]:
    return Message.objects.filter(direction=Direction.INBOUND, identity__isnull=False, conversation_id=conversation_id)


def _inbound_of_contact(contact_id: int) -> QuerySet[Message]:
    return Message.objects.filter(direction=Direction.INBOUND, identity__isnull=False,
                                  conversation__contact_id=contact_id, conversation__thread_key="")


def _latest_on(inbound: QuerySet[Message], channel_id: int) -> QuerySet[Message]:
    return inbound.filter(channel_id=channel_id).select_related("identity").order_by("-created_at", "-id")


# `_inbound_of(conversation)`'s latest on a channel, for each kind of conversation: every reply asks (compiled
# once per thread, core.prepared; issue 11)
_LAST_INBOUND_IN_THREAD = Prepared(lambda conversation_id, channel_id: _latest_on(
    _inbound_in_thread(conversation_id), channel_id))
_LAST_INBOUND_OF_CONTACT = Prepared(lambda contact_id, channel_id: _latest_on(
    _inbound_of_contact(contact_id), channel_id))

LAST_INBOUND_ROWS = 50


def last_inbound_identities(conversation: Conversation, channel_ids: list[int]) -> dict[int, ContactIdentity | None]:
    """The identity of the customer's latest inbound message on each of `channel_ids`, in one statement: the
    newest LAST_INBOUND_ROWS such messages; a channel not among them has none when fewer were found, and is
    left out (asked on its own by reply_target) when they were all on other channels."""
    rows = list(_inbound_of(conversation).filter(channel_id__in=channel_ids).select_related("identity")
                .order_by("-created_at", "-id")[:LAST_INBOUND_ROWS])
    found: dict[int, ContactIdentity | None] = {}
    for row in rows:
        found.setdefault(row.channel_id, row.identity)
    if len(rows) < LAST_INBOUND_ROWS:
        found.update({pk: None for pk in channel_ids if pk not in found})
    return found


def check_template(template: dict[str, Any]) -> dict[str, Any]:
    """The shape every channel's templates share: a name, a language, and variables or components."""
    name = template.get("name") if isinstance(template, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed(_("A template needs a name."), code="invalid_template", field="template.name")
    variables = template.get("variables", [])
    if not isinstance(variables, list) or not all(isinstance(v, str | int | float) for v in variables):
        raise ValidationFailed(_("Template variables must be a list of strings."), code="invalid_template",
                               field="template.variables")
    if name.strip() == "interactive":  # reply buttons / a list, on channels that have them
        buttons = template.get("buttons")
        if (not isinstance(buttons, list) or not 1 <= len(buttons) <= 10 or not all(
                isinstance(b, dict) and str(b.get("id", "")).strip() and str(b.get("title", "")).strip()
                for b in buttons)):
            raise ValidationFailed(_("An interactive reply needs 1 to 10 buttons, each with an id and a title."),
                                   code="invalid_template", field="template.buttons")
        template = {**template, "buttons": [{"id": str(b["id"])[:200], "title": str(b["title"])[:200]}
                                            for b in buttons]}
    return {**template, "name": name.strip(), "variables": [str(v) for v in variables]}


def check_send_allowed(
    conversation: Conversation, identity: ContactIdentity, channel: Channel, *, template: dict[str, Any] | None = None
) -> None:
    """The channel's own rules (reply windows, consent, templates); ValidationFailed with a stable code."""
    from threadline.channels.registry import adapter_for

    adapter = adapter_for(channel.kind)
    check = getattr(adapter, "check_send", None)
    if check is not None:
        check(conversation, identity, channel, template=template)
    elif template is not None and not adapter.capabilities.templates:
        raise ValidationFailed(_("This channel does not send templates."), code="templates_unsupported",
                               field="template")


def do_send_reply(
    actor: Membership, conversation: Conversation, text: str, *, channel: Channel | None = None,
    html: str = "", attachments: list[tuple[str, str, bytes]] | None = None, template: dict[str, Any] | None = None,
    language: str = "", metadata: dict[str, Any] | None = None,
) -> Message:
    """Store an agent's reply as `queued` and enqueue its delivery on the chosen channel.

    The channel's rules are checked first (`check_send`): a reply it refuses is never stored. With a
    `template`, the text is optional (a preview for the timeline) and the provider's template is sent.
    `language` and `metadata` are kept on the message (a machine-translated reply keeps the agent's original
    under `metadata["translation"]`).
    """
    require(actor, Permission.REPLY)
    if template is not None:
        template = check_template(template)
        text = (text or "").strip()[:MAX_TEXT] or _("Template %(name)s") % {"name": template["name"]}
    else:
        text = check_text(text)
    for filename, content_type, content in attachments or []:
        check_attachment(filename, content_type, len(content))
    channel, identity = reply_target(conversation, channel)
    check_send_allowed(conversation, identity, channel, template=template)
    message = queue_outbound(
        conversation, channel, identity, text, html=html, author_kind=AuthorKind.AGENT, author=actor,
        metadata={**(metadata or {}), **({"template": template} if template else {})}, attachments=attachments,
        language=language,
    )
    fields = []
    if conversation.first_response_at is None:
        conversation.first_response_at = message.created_at
        fields.append("first_response_at")
    if conversation.status == Status.NEW:
        conversation.status = Status.OPEN
        fields.append("status")
        record_event(conversation, "status_changed", actor=actor, old=Status.NEW, new=Status.OPEN)
    if fields:
        conversation.save(update_fields=fields)
    return message


def queue_outbound(
    conversation: Conversation, channel: Channel, identity: ContactIdentity, text: str, *, html: str = "",
    author_kind: str, author: Membership | None = None, language: str = "", metadata: dict[str, Any] | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
) -> Message:
    """Store an outbound message as `queued` with its Delivery and delivery job, and publish `message.created`.

    The caller has checked the text and the channel's rules; agents' replies go through `do_send_reply`,
    automatic ones (`author_kind` system or bot, no first response) through the replies domain.
    """
    from threadline.channels.outbound import deliver_message_task

    message = create(  # row_writes: each agent's reply writes these (issue 11)
        Message, workspace_id=conversation.workspace_id, conversation=conversation, direction=Direction.OUTBOUND,
        author_kind=author_kind, author_membership=author, channel=channel, identity=identity, text=text,
        html=sanitize_html(html), language=language, status=DeliveryStatus.QUEUED, metadata=metadata or {},
    )
    for filename, content_type, content in attachments or []:
        do_store_attachment(message, filename, content_type, content)
    create(Delivery, workspace_id=conversation.workspace_id, message=message, channel=channel)
    deliver_message_task.enqueue(message.pk, unique_key=f"deliver:{message.pk}", fresh=True)
    conversation.last_message_at = message.created_at
    save_fields(conversation, ["last_message_at", "updated_at"])
    publish(MessageCreated(workspace_id=conversation.workspace_id, message_id=message.pk,
                           conversation_id=conversation.pk, channel_id=channel.pk,
                           author_id=author.pk if author else None, is_note=False, text=text[:1000]))
    return message


DELIVERY_BATCH = 50  # messages per delivery job of `queue_outbound_many`


@dataclass(frozen=True)
class OutboundDraft:
    """One message for `queue_outbound_many` (the arguments of `queue_outbound`)."""

    conversation: Conversation
    channel: Channel
    identity: ContactIdentity
    text: str
    language: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


def queue_outbound_many(drafts: Sequence[OutboundDraft], *, author_kind: str,
                        publish_first: Sequence[DomainEvent] = ()) -> list[Message]:
    """`queue_outbound` for many messages at once (a campaign's batch, issue 11): the messages and their
    Delivery rows in one INSERT each, one delivery job per DELIVERY_BATCH messages of a channel
    (`deliver_messages_task`, the same adapters' path), each conversation's `last_message_at` in one UPDATE,
    and `message.created` published in bulk after `publish_first` (say the conversations just created).
    Saved conversations only; the caller checked the texts and each channel's rules."""
    from threadline.channels.outbound import deliver_messages_task
    from threadline.events.bus import publish_many

    if not drafts:
        publish_many(publish_first)
        return []
    messages = Message.objects.bulk_create([Message(
        workspace_id=d.conversation.workspace_id, conversation=d.conversation, direction=Direction.OUTBOUND,
        author_kind=author_kind, channel=d.channel, identity=d.identity, text=d.text, language=d.language,
        status=DeliveryStatus.QUEUED, metadata=d.metadata) for d in drafts])
    if any(message.pk is None for message in messages):  # SQLite >= 3.35 and PostgreSQL return them
        raise RuntimeError("the database did not return the messages' keys")
    insert_rows([Delivery(workspace_id=m.workspace_id, message=m, channel_id=m.channel_id) for m in messages])
    by_channel: dict[int, list[int]] = {}
    for message in messages:
        by_channel.setdefault(message.channel_id, []).append(message.pk)
    for ids in by_channel.values():
        for start in range(0, len(ids), DELIVERY_BATCH):
            chunk = ids[start:start + DELIVERY_BATCH]
            deliver_messages_task.enqueue(chunk, unique_key=f"deliver:batch:{chunk[0]}", fresh=True)
    Conversation.objects.filter(pk__in={m.conversation_id for m in messages}).update(
        last_message_at=max(m.created_at for m in messages), updated_at=now())
    publish_many([*publish_first, *(MessageCreated(
        workspace_id=m.workspace_id, message_id=m.pk, conversation_id=m.conversation_id, channel_id=m.channel_id,
        author_id=None, is_note=False, text=m.text[:1000]) for m in messages)])
    return messages


def do_add_system_note(conversation: Conversation, text: str) -> Message:
    """An internal note written by Threadline itself for something that happened elsewhere (a linked Jira
    issue changed status): never sent to the customer, no agent as its author."""
    text = check_text(text)
    message = Message.objects.create(
        workspace_id=conversation.workspace_id, conversation=conversation, direction=Direction.OUTBOUND,
        author_kind=AuthorKind.SYSTEM, text=text, is_note=True, status=DeliveryStatus.SENT,
    )
    conversation.save(update_fields=["updated_at"])
    publish(MessageCreated(workspace_id=conversation.workspace_id, message_id=message.pk,
                           conversation_id=conversation.pk, channel_id=None, author_id=None,
                           is_note=True, text=text[:1000]))
    return message


def do_add_note(actor: Membership, conversation: Conversation, text: str) -> Message:
    """An internal note: never sent to the customer; light agents may add them."""
    text = check_text(text)
    message = Message.objects.create(
        workspace_id=conversation.workspace_id, conversation=conversation, direction=Direction.OUTBOUND,
        author_kind=AuthorKind.AGENT, author_membership=actor, text=text, is_note=True,
        status=DeliveryStatus.SENT,
    )
    conversation.save(update_fields=["updated_at"])
    publish(MessageCreated(workspace_id=conversation.workspace_id, message_id=message.pk,
                           conversation_id=conversation.pk, channel_id=None, author_id=actor.pk,
                           is_note=True, text=text[:1000]))
    return message


def check_status(value: str) -> str:
    if value not in Status.values:
        raise ValidationFailed(_("Unknown status %(s)s.") % {"s": value}, code="invalid_status", field="status")
    return value


def check_priority(value: str) -> str:
    if value not in Priority.values:
        raise ValidationFailed(_("Unknown priority %(p)s.") % {"p": value}, code="invalid_priority", field="priority")
    return value


def do_update_conversation(
    actor: Membership | None, conversation: Conversation, *, status: str | None = None,
    priority: str | None = None, assignee: Membership | None = UNSET, team: Team | None = UNSET,
    tags: list[str] | None = None, subject: str | None = None,
) -> Conversation:
    """Change status, priority, assignee, team, tags or subject; each change is a timeline row."""
    if actor is not None:
        require(actor, Permission.ASSIGN)
    changes: dict[str, Any] = {}
    fields: list[str] = []  # only changed columns are written, so a concurrent change to another survives
    if conversation.merged_into_id:
        raise Conflict(_("This conversation was merged into another one."), code="conversation_merged")
    if status is not None and check_status(status) != conversation.status:
        record_event(conversation, "status_changed", actor=actor, old=conversation.status, new=status)
        changes["status"] = conversation.status = status
        fields.append("status")
        if status == Status.SOLVED:
            conversation.solved_at = now()
            fields.append("solved_at")
    if priority is not None and check_priority(priority) != conversation.priority:
        record_event(conversation, "priority_changed", actor=actor, old=conversation.priority, new=priority)
        changes["priority"] = conversation.priority = priority
        fields.append("priority")
    if assignee is not UNSET and (assignee.pk if assignee else None) != conversation.assignee_id:
        if assignee is not None and (assignee.workspace_id != conversation.workspace_id or not assignee.is_active):
            raise ValidationFailed(_("That agent cannot be assigned here."), code="invalid_assignee", field="assignee_id")
        record_event(conversation, "assigned", actor=actor, old=conversation.assignee_id,
                     new=assignee.pk if assignee else None)
        conversation.assignee = assignee
        changes["assignee_id"] = assignee.pk if assignee else None
        fields.append("assignee")
    if team is not UNSET and (team.pk if team else None) != conversation.team_id:
        if team is not None and team.workspace_id != conversation.workspace_id:
            raise ValidationFailed(_("That team is not in this workspace."), code="invalid_team", field="team_id")
        record_event(conversation, "team_changed", actor=actor, old=conversation.team_id, new=team.pk if team else None)
        conversation.team = team
        changes["team_id"] = team.pk if team else None
        fields.append("team")
    if subject is not None and subject[:500] != conversation.subject:
        changes["subject"] = conversation.subject = subject[:500]
        fields.append("subject")
    if tags is not None:
        names = sorted({t.strip()[:100] for t in tags if t and t.strip()})
        current = sorted(conversation.tags.values_list("name", flat=True))
        if names != current:
            objs = [Tag.objects.get_or_create(workspace_id=conversation.workspace_id, name=n)[0] for n in names]
            conversation.tags.set(objs)
            record_event(conversation, "tags_changed", actor=actor, old=current, new=names)
            changes["tags"] = names
    if changes:
        conversation.save(update_fields=[*fields, "updated_at"])
        publish(ConversationUpdated(workspace_id=conversation.workspace_id, conversation_id=conversation.pk,
                                    changes=changes, actor_id=actor.pk if actor else None))
    return conversation


def do_merge_conversations(actor: Membership, source: Conversation, target: Conversation) -> Conversation:
    """Move `source`'s messages into `target` and close `source`; both timelines record it."""
    require(actor, Permission.ASSIGN)
    if source.pk == target.pk:
        raise ValidationFailed(_("A conversation cannot be merged into itself."), code="merge_self")
    if source.workspace_id != target.workspace_id:
        raise ValidationFailed(_("Conversations of different workspaces cannot be merged."), code="merge_workspace")
    if source.merged_into_id or target.merged_into_id:
        raise Conflict(_("One of these conversations was already merged."), code="conversation_merged")
    moved = list(source.messages.values_list("id", flat=True))
    Message.objects.filter(pk__in=moved).update(conversation=target)
    source.merged_into = target
    source.status = Status.CLOSED
    source.save(update_fields=["merged_into", "status", "updated_at"])
    target.last_message_at = max(filter(None, [target.last_message_at, source.last_message_at]), default=None)
    target.save(update_fields=["last_message_at", "updated_at"])
    record_event(source, "merged", actor=actor, into=target.pk, message_ids=moved)
    record_event(target, "merged_in", actor=actor, source=source.pk, message_ids=moved)
    record_change("conversation.merged", target, {"source_id": source.pk}, actor=actor)
    publish(ConversationMerged(workspace_id=target.workspace_id, conversation_id=source.pk, into_id=target.pk,
                               actor_id=actor.pk))
    return target

