"""Splitting a message out into a new conversation, and moving a message to another one (undoing a split).

Both keep the threading decision the message had (`metadata["threading"]["before"]`), write a row on both
timelines and publish after commit. A later reply whose References name the message threads into wherever
the message now is, because threading looks messages up by provider id.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from threadline.conversations.actions import record_event
from threadline.conversations.events import ConversationCreated, ConversationUpdated
from threadline.conversations.models import Conversation, Message, Status
from threadline.core.errors import Conflict, ValidationFailed
from threadline.events.bus import publish
from threadline.tenancy.models import Membership
from threadline.tenancy.queries import require_full_agent


def _relocate(message: Message, target: Conversation, rule: str, actor: Membership) -> None:
    metadata = dict(message.metadata or {})
    metadata["threading"] = {"rule": rule, "from_conversation": message.conversation_id, "actor_id": actor.pk,
                             "before": metadata.get("threading")}
    Message.objects.filter(pk=message.pk).update(conversation=target, metadata=metadata)


def do_split_message(actor: Membership, message: Message) -> Conversation:
    """Move one customer message into a new conversation of its author, linked to the old one (`previous`)."""
    require_full_agent(actor)
    source = message.conversation
    if message.is_note or message.direction != "in" or source.merged_into_id:
        raise Conflict(_("Only a customer's message of a live conversation can be split out."),
                       code="split_not_allowed")
    if not source.messages.exclude(pk=message.pk).exists():
        raise ValidationFailed(_("The conversation has no other message."), code="split_only_message")
    contact = message.author_contact or source.contact
    new = Conversation.objects.create(
        workspace_id=source.workspace_id, contact=contact, subject=source.subject, origin_channel=message.channel,
        last_inbound_channel=message.channel, previous=source, status=Status.OPEN, brand=source.brand,
        language=source.language, last_message_at=message.created_at, last_inbound_at=message.created_at,
    )
    _relocate(message, new, "split_by_agent", actor)
    record_event(source, "message_split_out", actor=actor, message_id=message.pk, into=new.pk)
    record_event(new, "created", actor=actor, split_from=source.pk, message_id=message.pk)
    publish(ConversationCreated(workspace_id=new.workspace_id, conversation_id=new.pk, contact_id=contact.pk,
                                channel_id=message.channel_id, previous_id=source.pk))
    return new


def do_move_message(actor: Membership, message: Message, target: Conversation) -> Conversation:
    """Move a message into another conversation of the workspace; a conversation left empty is closed."""
    require_full_agent(actor)
    source = message.conversation
    if target.workspace_id != source.workspace_id or target.merged_into_id or target.status == Status.CLOSED:
        raise ValidationFailed(_("That conversation cannot take this message."), code="move_not_allowed",
                               field="conversation_id")
    if target.pk == source.pk:
        return target
    _relocate(message, target, "moved_by_agent", actor)
    record_event(source, "message_moved_out", actor=actor, message_id=message.pk, into=target.pk)
    record_event(target, "message_moved_in", actor=actor, message_id=message.pk, source=source.pk)
    if not source.messages.exists():
        old = source.status
        source.status = Status.CLOSED
        source.save(update_fields=["status", "updated_at"])
        record_event(source, "status_changed", actor=actor, old=old, new=Status.CLOSED, reason="emptied by a move")
    target.save(update_fields=["updated_at"])
    publish(ConversationUpdated(workspace_id=target.workspace_id, conversation_id=target.pk,
                                changes={"message_moved_in": message.pk}, actor_id=actor.pk))
    return target
