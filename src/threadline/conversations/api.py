"""/api/v1 conversations, their messages, notes, timeline and attachments.

Views only parse, look up through `access_*`, open the transaction and call actions; light agents may read
everything and add notes, anything else answers 403 with code `light_agent` (checked by the actions).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import FileResponse, HttpRequest
from ninja import Query, Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import PageQuery, page, paginate
from threadline.channels.queries import access_channel
from threadline.conversations.actions import (
    UNSET,
    do_add_note,
    do_merge_conversations,
    do_send_reply,
    do_update_conversation,
)
from threadline.conversations.attachments import attachment_response
from threadline.conversations.custom_fields import do_set_custom_fields
from threadline.conversations.models import Attachment
from threadline.conversations.queries import (
    access_attachment,
    access_conversation,
    access_message,
    list_conversations,
    list_events,
    list_messages,
)
from threadline.conversations.schemas import (
    ConversationMergeIn,
    ConversationOut,
    ConversationPage,
    ConversationPatch,
    ConversationQuery,
    EventPage,
    MessageOut,
    MessagePage,
    MoveIn,
    NoteIn,
    ReplyIn,
)
from threadline.conversations.splitting import do_move_message, do_split_message
from threadline.core.schemas import Id
from threadline.tenancy.permissions import Permission, require
from threadline.tenancy.queries import access_agent, access_team

router = Router(tags=["conversations"])


@router.get("/conversations", response=responses(ConversationPage), summary="List conversations")
def conversations(request: HttpRequest, query: Query[ConversationQuery]) -> dict[str, Any]:
    """Newest first (by id), filtered. Ids never change, so paging never skips nor repeats a conversation
    even while conversations are updated; to follow changes, pass `updated_since`."""
    rows, cursor = paginate(list_conversations(actor(request), query.filters()), cursor=query.cursor,
                            limit=query.limit)
    return page(rows, cursor)


@router.get("/conversations/{conversation_id}", response=responses(ConversationOut), summary="Get a conversation")
def conversation(request: HttpRequest, conversation_id: Id) -> Any:
    return access_conversation(actor(request), conversation_id)


@router.patch("/conversations/{conversation_id}", response=responses(ConversationOut),
              summary="Change status, priority, assignee, team, tags, subject or custom fields")
def update_conversation(request: HttpRequest, conversation_id: Id, payload: ConversationPatch) -> Any:
    agent = actor(request)
    require(agent, Permission.ASSIGN)
    sent = payload.model_fields_set
    with transaction.atomic():
        target = access_conversation(agent, conversation_id, for_update=True)
        assignee = UNSET
        if "assignee_id" in sent:
            assignee = access_agent(agent, payload.assignee_id) if payload.assignee_id is not None else None
        team = UNSET
        if "team_id" in sent:
            team = access_team(agent, payload.team_id) if payload.team_id is not None else None
        do_update_conversation(
            agent, target, status=payload.status.value if payload.status else None,
            priority=payload.priority.value if payload.priority else None, assignee=assignee, team=team,
            tags=payload.tags, subject=payload.subject,
        )
        if payload.custom_fields is not None:
            do_set_custom_fields(agent, target, payload.custom_fields)
    return access_conversation(agent, conversation_id)


@router.post("/conversations/{conversation_id}/merge", response=responses(ConversationOut),
             summary="Merge this conversation into another")
def merge_conversation(request: HttpRequest, conversation_id: Id, payload: ConversationMergeIn) -> Any:
    """Moves every message into `into_id` and closes this one; answers the conversation merged into."""
    agent = actor(request)
    require(agent, Permission.ASSIGN)
    with transaction.atomic():
        # Both rows locked, in id order so two opposite merges cannot deadlock.
        locked = {pk: access_conversation(agent, pk, for_update=True)
                  for pk in sorted({conversation_id, payload.into_id})}
        do_merge_conversations(agent, locked[conversation_id], locked[payload.into_id])
    return access_conversation(agent, payload.into_id)


@router.get("/conversations/{conversation_id}/events", response=responses(EventPage),
            summary="The conversation's timeline, oldest first")
def conversation_events(request: HttpRequest, conversation_id: Id,
                        paging: Query[PageQuery]) -> dict[str, Any]:
    agent = actor(request)
    rows, next_cursor = paginate(list_events(agent, access_conversation(agent, conversation_id)),
                                 cursor=paging.cursor, limit=paging.limit, descending=False)
    return page(rows, next_cursor)


@router.get("/conversations/{conversation_id}/messages", response=responses(MessagePage),
            summary="Messages and internal notes, oldest first")
def conversation_messages(request: HttpRequest, conversation_id: Id,
                          paging: Query[PageQuery]) -> dict[str, Any]:
    agent = actor(request)
    rows, next_cursor = paginate(list_messages(agent, access_conversation(agent, conversation_id)),
                                 cursor=paging.cursor, limit=paging.limit, descending=False)
    return page(rows, next_cursor)


@router.post("/conversations/{conversation_id}/messages", response=responses(MessageOut, 201),
             summary="Reply to the customer")
def reply(request: HttpRequest, conversation_id: Id, payload: ReplyIn) -> Status[Any]:
    """Stores the reply as `queued` and sends it in the background on `channel_id`, by default the channel
    the customer wrote on last; follow `status` on the message (`sent`, or `failed` with `status_reason`)."""
    agent = actor(request)
    require(agent, Permission.REPLY)
    attachments = [(a.filename, a.content_type, a.content()) for a in payload.attachments]
    with transaction.atomic():
        target = access_conversation(agent, conversation_id, summary=False)
        channel = access_channel(agent, payload.channel_id) if payload.channel_id is not None else None
        message = do_send_reply(agent, target, payload.text, channel=channel, html=payload.html,
                                attachments=attachments)
    if not attachments:  # the reply as just written, not read back (issue 11: 2 statements of an acknowledgement)
        message._prefetched_objects_cache = {"attachments": Attachment.objects.none()}
        return Status(201, message)
    return Status(201, access_message(agent, message.pk))


@router.post("/conversations/{conversation_id}/notes", response=responses(MessageOut, 201),
             summary="Add an internal note (light agents too)")
def add_note(request: HttpRequest, conversation_id: Id, payload: NoteIn) -> Status[Any]:
    agent = actor(request)
    with transaction.atomic():
        note = do_add_note(agent, access_conversation(agent, conversation_id), payload.text)
    return Status(201, access_message(agent, note.pk))


@router.get("/messages/{message_id}", response=responses(MessageOut), summary="Get a message")
def message(request: HttpRequest, message_id: Id) -> Any:
    return access_message(actor(request), message_id)


@router.post("/messages/{message_id}/split", response=responses(ConversationOut, 201),
             summary="Split a customer's message out into a new conversation")
def split_message(request: HttpRequest, message_id: Id) -> Status[Any]:
    """The new conversation links to the old one as `previous_id`; moving the message back undoes it."""
    agent = actor(request)
    with transaction.atomic():
        message = access_message(agent, message_id)
        access_conversation(agent, message.conversation_id, for_update=True)
        new = do_split_message(agent, message)
    return Status(201, access_conversation(agent, new.pk))


@router.post("/messages/{message_id}/move", response=responses(ConversationOut),
             summary="Move a message into another conversation")
def move_message(request: HttpRequest, message_id: Id, payload: MoveIn) -> Any:
    agent = actor(request)
    require(agent, Permission.ASSIGN)  # before any lookup: a refused role learns nothing about the ids
    with transaction.atomic():
        message = access_message(agent, message_id)
        locked = {pk: access_conversation(agent, pk, for_update=True)
                  for pk in sorted({message.conversation_id, payload.conversation_id})}
        message.refresh_from_db()
        do_move_message(agent, message, locked[payload.conversation_id])
    return access_conversation(agent, payload.conversation_id)


@router.get("/attachments/{attachment_id}", response=responses(None), summary="Download an attachment",
            openapi_extra={"responses": {200: {"description": "The file", "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}})
def download_attachment(request: HttpRequest, attachment_id: Id) -> FileResponse:
    return attachment_response(access_attachment(actor(request), attachment_id))
