"""Phone calls on the conversation timeline: calls, missed calls, voicemail, transcriptions, callbacks.

`do_record_call_event` is the channel-neutral entry for a `CallEvent`, as `receive_inbound_message` is for
messages: the caller's contact is resolved by phone number (so a caller who wrote on SMS or WhatsApp from
the same number is the same contact) and the call threads into that contact's open conversation. Calls are
`call_*` timeline rows (`ConversationEvent`), not messages, so replies keep going to the channel the customer
last wrote on; a voicemail is also an inbound message carrying the recording as an attachment. A missed call
or a callback request from the IVR opens a callback task (a `callback_task` row, closed by
`do_complete_callback`). Callers own the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.channels.base import CallEvent, InboundMessage
from threadline.channels.models import Channel
from threadline.contacts.actions import resolve_sender
from threadline.conversations.actions import _thread_for, publish_received, record_event
from threadline.conversations.attachments import do_store_attachment
from threadline.conversations.models import (
    AuthorKind,
    Conversation,
    ConversationEvent,
    DeliveryStatus,
    Direction,
    Message,
)
from threadline.core.errors import NotFound, ValidationFailed
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.events.types import DomainEvent
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

CALL_EVENTS = ("started", "answered", "completed", "missed", "voicemail", "transcription", "callback_requested",
               "queued", "survey")
CALLBACK_EVENTS = ("missed", "callback_requested")


@dataclass(frozen=True, kw_only=True)
class CallRecorded(DomainEvent):
    type = "call.recorded"
    conversation_id: int
    contact_id: int
    channel_id: int
    call_id: str
    event: str


@dataclass(frozen=True, kw_only=True)
class CallbackRequested(DomainEvent):
    type = "callback.requested"
    conversation_id: int
    contact_id: int
    task_id: int
    number: str
    reason: str
    team_id: int | None


def _voicemail(channel: Channel, conversation: Conversation, contact_id: int, identity_id: int,
               event: CallEvent) -> Message:
    provider_id = f"{event.provider_call_id}:voicemail"
    message = Message.objects.filter(channel=channel, provider_message_id=provider_id).first()
    if message is not None:
        return message
    seconds = event.duration_seconds or 0
    text = _("Voicemail (%(m)d:%(s)02d)") % {"m": seconds // 60, "s": seconds % 60}
    if event.transcription:
        text = f"{text}\n{event.transcription}"
    message = Message.objects.create(
        workspace_id=channel.workspace_id, conversation=conversation, direction=Direction.INBOUND,
        author_kind=AuthorKind.CONTACT, author_contact_id=contact_id, channel=channel, identity_id=identity_id,
        provider_message_id=provider_id, text=text, status=DeliveryStatus.RECEIVED, sent_at=event.at,
        metadata={"call_id": event.provider_call_id, "voicemail": True, **event.metadata},
    )
    if event.recording is not None:
        do_store_attachment(message, event.recording.filename, event.recording.content_type,
                            event.recording.content)
    publish_received(message, channel, contact_id, text)
    return message


def _add_transcription(channel: Channel, event: CallEvent) -> Message | None:
    message = Message.objects.filter(channel=channel, provider_message_id=f"{event.provider_call_id}:voicemail").first()
    if message is not None and event.transcription and event.transcription not in message.text:
        message.text = f"{message.text}\n{event.transcription}"
        message.metadata = {**message.metadata, "transcription": event.transcription}
        message.save(update_fields=["text", "metadata", "updated_at"])
    return message


def do_record_call_event(channel: Channel, event: CallEvent) -> ConversationEvent:
    """Put one call event on the caller's conversation; missed calls and callback requests open a task.

    Each stored provider callback is processed once (the InboundEvent guarantees it); a voicemail's message
    is keyed by the call id, so replaying it does not duplicate the recording.
    """
    if event.event not in CALL_EVENTS:
        raise ValidationFailed(_("Unknown call event %(e)s.") % {"e": event.event}, code="invalid_call_event")
    sender = resolve_sender(channel.workspace, event.caller_kind, event.caller_address, name=event.caller_name,
                            source=channel.kind)
    probe = InboundMessage(provider_message_id="", sender_kind=event.caller_kind, sender_address=event.caller_address,
                           subject=_("Phone call from %(number)s") % {"number": sender.identity.address})
    conversation, threading = _thread_for(sender.contact, channel, probe)
    data: dict[str, Any] = {
        "call_id": event.provider_call_id, "channel_id": channel.pk, "from": sender.identity.address,
        "direction": event.direction, "status": event.status, "threading": threading["rule"],
    }
    if event.duration_seconds is not None:
        data["duration_seconds"] = event.duration_seconds
    if event.metadata:
        data["details"] = event.metadata
    if event.event == "voicemail":
        message = _voicemail(channel, conversation, sender.contact.pk, sender.identity.pk, event)
        data["message_id"] = message.pk
        data["attachment_ids"] = list(message.attachments.values_list("id", flat=True))
    elif event.event == "transcription":
        message = _add_transcription(channel, event)
        data["message_id"] = message.pk if message else None
        data["transcription"] = event.transcription[:4000]
    elif event.event == "queued":
        data["team_id"] = event.team_id
    row = ConversationEvent.objects.create(workspace_id=channel.workspace_id, conversation=conversation,
                                           kind=f"call_{event.event}", data=data)
    conversation.last_message_at = now()
    conversation.save(update_fields=["last_message_at", "updated_at"])
    publish(CallRecorded(workspace_id=channel.workspace_id, conversation_id=conversation.pk,
                         contact_id=sender.contact.pk, channel_id=channel.pk, call_id=event.provider_call_id,
                         event=event.event))
    if event.event in CALLBACK_EVENTS and (event.callback_number or event.caller_kind == "phone"):
        _open_callback_task(conversation, sender.contact.pk, event, sender.identity.address)
    return row


def _open_callback_task(conversation: Conversation, contact_id: int, event: CallEvent, caller: str) -> None:
    if open_callback_tasks(conversation.workspace_id).filter(conversation=conversation).exists():
        return  # one open callback per conversation: a second missed call does not add another
    number = event.callback_number or caller
    reason = "missed_call" if event.event == "missed" else "callback_requested"
    task = ConversationEvent.objects.create(
        workspace_id=conversation.workspace_id, conversation=conversation, kind="callback_task",
        data={"state": "open", "number": number, "reason": reason, "call_id": event.provider_call_id,
              "team_id": event.team_id},
    )
    publish(CallbackRequested(workspace_id=conversation.workspace_id, conversation_id=conversation.pk,
                              contact_id=contact_id, task_id=task.pk, number=number, reason=reason,
                              team_id=event.team_id))


def open_callback_tasks(workspace_id: int) -> QuerySet[ConversationEvent]:
    """Callback tasks not completed yet, oldest first."""
    done = ConversationEvent.objects.filter(workspace_id=workspace_id, kind="callback_done").values_list(
        "data__task_id", flat=True)
    return (ConversationEvent.objects.filter(workspace_id=workspace_id, kind="callback_task")
            .exclude(pk__in=[int(pk) for pk in done if pk is not None]).order_by("created_at", "id"))


def do_complete_callback(actor: Membership, task_id: int, *, outcome: str = "called_back", note: str = "") -> None:
    """An agent called the customer back: the task closes with the outcome on the timeline."""
    require(actor, Permission.REPLY)
    task = open_callback_tasks(actor.workspace_id).filter(pk=task_id).select_related("conversation").first()
    if task is None:
        raise NotFound(_("No such open callback task."), code="callback_not_found")
    record_event(task.conversation, "callback_done", actor=actor, task_id=task.pk, outcome=outcome[:64],
                 note=note[:2000])
