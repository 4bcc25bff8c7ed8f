"""Reads for conversations and messages, and `access_*`: the only permission-checked lookups for an actor.

Every member whose role grants `Permission.VIEW` (light agents included) may read all of the workspace's
conversations, others none (403); a row of another workspace is NotFound, never Forbidden, so ids of other workspaces reveal nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from threadline.conversations.models import (
    Attachment,
    Conversation,
    ConversationEvent,
    Message,
    ScheduledReply,
    Tag,
)
from threadline.core.errors import NotFound
from threadline.core.prepared import Prepared
from threadline.core.time import ensure_aware
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

ASSIGNEE_NONE = "none"
ASSIGNEE_ME = "me"


def conversations_of(actor: Membership) -> QuerySet[Conversation]:
    """The actor's workspace's conversations, with what a summary shows loaded in a fixed number of queries."""
    require(actor, Permission.VIEW)
    return (
        Conversation.objects.filter(workspace_id=actor.workspace_id)
        .select_related("contact", "assignee__user", "team", "origin_channel", "last_inbound_channel")
        .prefetch_related("tags", "contact__identities")
    )


def _for_write(workspace_id: int, pk: int) -> QuerySet[Conversation]:
    return Conversation.objects.filter(workspace_id=workspace_id, pk=pk).select_related(
        "contact", "origin_channel", "last_inbound_channel")


_FOR_WRITE = Prepared(_for_write)
_FOR_WRITE_LOCKED = Prepared(lambda workspace_id, pk: _for_write(workspace_id, pk).select_for_update(of=("self",)))


def access_conversation(actor: Membership, conversation_id: int, *, for_update: bool = False,
                        summary: bool = True) -> Conversation:
    """The conversation, or NotFound. `for_update` locks its row until the caller's transaction ends (PostgreSQL;
    SQLite serializes writers), so a change computed from what was read cannot undo a concurrent one.
    `summary=False` for a write that answers with something else (a reply answers with the message): only
    what writing needs is loaded, without the summary's tags, identities, assignee and team."""
    if summary:
        queryset = conversations_of(actor)
        if for_update:
            queryset = queryset.select_for_update(of=("self",))
        conversation = queryset.filter(pk=conversation_id).first()
    else:  # a reply's: compiled once per thread (core.prepared; issue 11)
        conversation = (_FOR_WRITE_LOCKED if for_update else _FOR_WRITE).one(actor.workspace_id, conversation_id)
    if conversation is None:
        raise NotFound(_("No such conversation."), code="conversation_not_found")
    return conversation


def messages_of(actor: Membership) -> QuerySet[Message]:
    require(actor, Permission.VIEW)
    return (
        Message.objects.filter(workspace_id=actor.workspace_id)
        .select_related("author_membership__user", "author_contact", "channel", "identity", "delivery")
        .prefetch_related("attachments")
    )


def access_message(actor: Membership, message_id: int) -> Message:
    message = messages_of(actor).filter(pk=message_id).first()
    if message is None:
        raise NotFound(_("No such message."), code="message_not_found")
    return message


def list_messages(actor: Membership, conversation: Conversation) -> QuerySet[Message]:
    """A conversation's messages and internal notes (unordered: the caller pages them by id)."""
    return messages_of(actor).filter(conversation=conversation)


def list_events(actor: Membership, conversation: Conversation) -> QuerySet[ConversationEvent]:
    """A conversation's timeline (unordered: the caller pages them by id, which is the order they happened)."""
    require(actor, Permission.VIEW)
    return ConversationEvent.objects.filter(workspace_id=actor.workspace_id, conversation=conversation)


def access_attachment(actor: Membership, attachment_id: int) -> Attachment:
    require(actor, Permission.VIEW)
    attachment = Attachment.objects.filter(workspace_id=actor.workspace_id, pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("No such attachment."), code="attachment_not_found")
    return attachment


@dataclass(frozen=True)
class ConversationFilters:
    """What a conversation list may be narrowed by; every field left empty means "any"."""

    statuses: tuple[str, ...] = ()
    assignee: int | str | None = None  # a membership id, "none" (unassigned) or "me"
    team_id: int | None = None
    channel_id: int | None = None  # began on, or carries a message of, this channel
    tag: str | None = None
    language: str | None = None
    contact_id: int | None = None
    updated_since: dt.datetime | None = None  # aware; updated at or after this moment


def list_conversations(actor: Membership, filters: ConversationFilters | None = None) -> QuerySet[Conversation]:
    """The actor's conversations matching `filters` (unordered: the caller pages them by id).

    Pages are ordered by id, not by update time: an id never changes, so a conversation updated while a
    client pages through the list is neither skipped nor seen twice. To follow changes, a client passes
    `updated_since` = the moment it started its previous full read.
    """
    filters = filters or ConversationFilters()
    queryset = conversations_of(actor)
    if filters.statuses:
        queryset = queryset.filter(status__in=filters.statuses)
    if filters.assignee == ASSIGNEE_NONE:
        queryset = queryset.filter(assignee__isnull=True)
    elif filters.assignee == ASSIGNEE_ME:
        queryset = queryset.filter(assignee_id=actor.pk)
    elif filters.assignee is not None:
        queryset = queryset.filter(assignee_id=filters.assignee)
    if filters.team_id is not None:
        queryset = queryset.filter(team_id=filters.team_id)
    if filters.channel_id is not None:
        on_channel = Message.objects.filter(conversation=OuterRef("pk"), channel_id=filters.channel_id)
        queryset = queryset.filter(Q(origin_channel_id=filters.channel_id) | Q(Exists(on_channel)))
    if filters.tag:
        queryset = queryset.filter(tags__name=filters.tag)
    if filters.language:
        queryset = queryset.filter(language=filters.language)
    if filters.contact_id is not None:
        queryset = queryset.filter(contact_id=filters.contact_id)
    if filters.updated_since is not None:
        queryset = queryset.filter(updated_at__gte=ensure_aware(filters.updated_since))
    return queryset


def access_scheduled_reply(actor: Membership, scheduled_id: int) -> ScheduledReply:
    scheduled = (ScheduledReply.objects.filter(workspace_id=actor.workspace_id, pk=scheduled_id,
                                               conversation__in=conversations_of(actor))
                 .select_related("conversation").first())
    if scheduled is None:
        raise NotFound(_("No such scheduled reply."), code="scheduled_reply_not_found")
    return scheduled


def pending_scheduled_replies(actor: Membership, conversation: Conversation) -> QuerySet[ScheduledReply]:
    return (ScheduledReply.objects.filter(workspace_id=actor.workspace_id, conversation=conversation,
                                          state=ScheduledReply.State.SCHEDULED)
            .select_related("author__user", "channel").order_by("send_at", "id"))


def list_tags(actor: Membership) -> QuerySet[Tag]:
    return (Tag.objects.filter(workspace_id=actor.workspace_id).annotate(uses=Count("conversations"))
            .order_by("name"))


def access_tag(actor: Membership, tag_id: int) -> Tag:
    tag = Tag.objects.filter(workspace_id=actor.workspace_id, pk=tag_id).first()
    if tag is None:
        raise NotFound(_("No such tag."), code="tag_not_found")
    return tag
