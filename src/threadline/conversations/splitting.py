"""Splitting a message out into a new conversation, moving a message to another one (undoing a split), and
separating the two sides of a conversation after a contact unmerge.

All keep the threading decision the message had (`metadata["threading"]["before"]`), write a row on both
timelines and publish after commit. A later reply whose References name the message threads into wherever
the message now is, because threading looks messages up by provider id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from threadline.contacts.models import ContactIdentity
from threadline.conversations.actions import record_event
from threadline.conversations.events import ConversationCreated, ConversationUpdated
from threadline.conversations.models import AuthorKind, Conversation, Direction, Message, Status
from threadline.core.errors import Conflict, ValidationFailed
from threadline.events.bus import publish
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def _relocate(message: Message, target: Conversation, rule: str, actor: Membership) -> None:
    metadata = dict(message.metadata or {})
    metadata["threading"] = {"rule": rule, "from_conversation": message.conversation_id, "actor_id": actor.pk,
                             "before": metadata.get("threading")}
    Message.objects.filter(pk=message.pk).update(conversation=target, metadata=metadata)


def do_split_message(actor: Membership, message: Message) -> Conversation:
    """Move one customer message into a new conversation of its author, linked to the old one (`previous`)."""
    require(actor, Permission.ASSIGN)
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
    require(actor, Permission.ASSIGN)
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


# ── after a contact unmerge ──────────────────────────────────────────────────────────────────────────
@dataclass
class Separation:
    """What `do_separate_sides` did: conversations handed whole to the other contact, new conversations split
    out (id → the conversation they came from), and conversations flagged for an agent."""

    handed_over: list[int] = field(default_factory=list)
    split: dict[int, int] = field(default_factory=dict)
    flagged: list[int] = field(default_factory=list)


def _side_of(message: Message, owner: dict[int, int]) -> int | None:
    """The contact a message belongs to: the owner of the identity it came from or went to; None when no
    identity says (a note, a system line, a message whose identity was deleted)."""
    if message.is_note or message.identity_id is None:
        return None
    return owner.get(message.identity_id)


def _refresh_activity(conversation: Conversation) -> None:
    """last_message_at / last_inbound_* from the messages the conversation holds now (the default reply
    channel is the one its own customer wrote on last)."""
    last = conversation.messages.order_by("-created_at", "-pk").first()
    inbound = conversation.messages.filter(direction=Direction.INBOUND).order_by("-created_at", "-pk").first()
    conversation.last_message_at = last.created_at if last else None
    conversation.last_inbound_at = inbound.created_at if inbound else None
    conversation.last_inbound_channel_id = inbound.channel_id if inbound else None
    conversation.save(update_fields=["last_message_at", "last_inbound_at", "last_inbound_channel", "updated_at"])


def _split_side(actor: Membership, conversation: Conversation, contact_id: int, moving: list[Message],
                merge_id: int) -> Conversation:
    inbound = [m for m in moving if m.direction == Direction.INBOUND]
    replies = [m for m in moving if m.direction == Direction.OUTBOUND and m.author_kind == AuthorKind.AGENT]
    new = Conversation.objects.create(
        workspace_id=conversation.workspace_id, contact_id=contact_id, subject=conversation.subject,
        status=conversation.status, priority=conversation.priority, team=conversation.team,
        assignee=conversation.assignee, brand=conversation.brand, language=conversation.language,
        previous=conversation, origin_channel_id=moving[0].channel_id, solved_at=conversation.solved_at,
        last_inbound_channel_id=inbound[-1].channel_id if inbound else None,
        last_inbound_at=inbound[-1].created_at if inbound else None, last_message_at=moving[-1].created_at,
        first_response_at=replies[0].created_at if replies else None,
    )
    ids = [m.pk for m in moving]
    for message in moving:
        _relocate(message, new, "unmerge_split", actor)
    record_event(conversation, "unmerge_split_out", actor=actor, merge_id=merge_id, into=new.pk, message_ids=ids)
    record_event(new, "created", actor=actor, unmerged_from=conversation.pk, merge_id=merge_id, message_ids=ids,
                 channel_id=moving[0].channel_id)
    publish(ConversationCreated(workspace_id=new.workspace_id, conversation_id=new.pk, contact_id=contact_id,
                                channel_id=moving[0].channel_id, previous_id=conversation.pk))
    return new


def do_separate_sides(actor: Membership, *, contact_ids: list[int], since: dt.datetime, merge_id: int) -> Separation:
    """After an unmerge of two contacts: no conversation of either keeps the other's messages from `since` on.

    Each message belongs to the contact whose identity it came from (inbound) or was sent to (outbound). In a
    conversation of one contact holding messages of the other written since the merge: when none of its
    messages is its holder's and it began during the merge, it is handed whole to the other contact;
    otherwise those messages move to a new conversation of the other contact (`previous` = this one, same
    status, team and assignee). Messages no identity attributes (notes, lines without an identity) stay,
    and the conversation gets an `unmerge_review` timeline row naming them, for an agent to check.
    The caller owns the transaction (it runs inside `do_unmerge_contacts`).
    """
    owner = dict(ContactIdentity.objects.filter(contact_id__in=contact_ids).values_list("pk", "contact_id"))
    result = Separation()
    touched = (Conversation.objects.filter(contact_id__in=contact_ids, merged_into__isnull=True,
                                           messages__created_at__gte=since).distinct().order_by("pk"))
    for conversation in touched:
        messages = list(conversation.messages.order_by("created_at", "pk"))
        sides = {m.pk: _side_of(m, owner) for m in messages}
        others = sorted({s for s in sides.values() if s is not None and s != conversation.contact_id})
        if not others:
            continue
        holder_has_none = conversation.contact_id not in sides.values()
        if holder_has_none and len(others) == 1 and conversation.created_at >= since:
            conversation.contact_id = others[0]
            conversation.save(update_fields=["contact", "updated_at"])
            result.handed_over.append(conversation.pk)
            continue
        new_ids = []
        for other in others:
            moving = [m for m in messages if sides[m.pk] == other and m.created_at >= since]
            if moving:
                new = _split_side(actor, conversation, other, moving, merge_id)
                result.split[new.pk] = conversation.pk
                new_ids.append(new.pk)
        if not new_ids:
            continue
        _refresh_activity(conversation)
        undecided = [m.pk for m in messages if sides[m.pk] is None and m.created_at >= since]
        if undecided:
            record_event(conversation, "unmerge_review", actor=actor, merge_id=merge_id, message_ids=undecided,
                         split_into=new_ids)
            result.flagged.append(conversation.pk)
        publish(ConversationUpdated(workspace_id=conversation.workspace_id, conversation_id=conversation.pk,
                                    changes={"unmerge_split_into": new_ids}, actor_id=actor.pk))
    return result
