"""`POST /api/v1/conversations/{id}/template-replies`: a reply made of a provider template or buttons.

Outside a channel's reply window (WhatsApp 24 h, Messenger 24 h/7 d, WeChat 48 h) free text is refused with
`outside_reply_window`; this is how an agent or a system sends what the channel still accepts: an approved
WhatsApp template with its variables, a Messenger message tag, a WeChat template message, or reply buttons
(`{"name": "interactive", "buttons": [...]}`). The channel's rules are checked before anything is stored.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status
from pydantic import BaseModel, ConfigDict, Field

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.channels.queries import access_channel
from threadline.conversations.actions import do_send_reply
from threadline.conversations.queries import access_conversation, access_message
from threadline.conversations.schemas import MessageOut
from threadline.core.schemas import Id, Input
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["conversations"])


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=512, description='Template name, message tag, or "interactive"')
    language: str = Field("", max_length=16, description="Template language, e.g. en_US")
    variables: list[str] = Field(default_factory=list, max_length=50, description="Values of {{1}}, {{2}}...")
    components: list[dict[str, Any]] | None = Field(None, max_length=20, description="Provider-shaped components")
    buttons: list[dict[str, str]] | None = Field(None, max_length=10, description='For "interactive": id, title')


class TemplateReplyIn(Input):
    template: TemplateIn
    text: str = Field("", max_length=100_000, description="Shown on the timeline; the body of interactive replies")
    channel_id: Id | None = Field(None, description="Defaults to the channel the customer wrote on last")


@router.post("/conversations/{conversation_id}/template-replies", response=responses(MessageOut, 201),
             summary="Reply with a template, message tag or buttons")
def template_reply(request: HttpRequest, conversation_id: Id, payload: TemplateReplyIn) -> Status[Any]:
    agent = actor(request)
    require(agent, Permission.REPLY)
    template = payload.template.model_dump(exclude_none=True)
    with transaction.atomic():
        conversation = access_conversation(agent, conversation_id)
        channel = access_channel(agent, payload.channel_id) if payload.channel_id is not None else None
        message = do_send_reply(agent, conversation, payload.text, channel=channel, template=template)
    return Status(201, access_message(agent, message.pk))
