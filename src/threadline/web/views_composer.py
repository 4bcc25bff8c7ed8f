"""The composer's actions beyond replying: send later (and cancel), apply a macro, and what to do about a
failed reply (retry it, or send a copy on another channel). Like every workspace action: JSON for the page's
fetch requests, a redirect back to the conversation otherwise."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from threadline.channels.queries import access_channel
from threadline.conversations.queries import access_conversation, access_message, access_scheduled_reply
from threadline.conversations.redelivery import do_resend_on_channel, do_retry_delivery
from threadline.conversations.scheduling import do_cancel_scheduled_reply, do_schedule_reply
from threadline.core.errors import ValidationFailed
from threadline.replies.actions import do_apply_macro
from threadline.replies.queries import access_macro
from threadline.tenancy.permissions import Permission, require
from threadline.web.moments import moment_from
from threadline.web.session import agent_view
from threadline.web.views import _back, _done, _optional_int


@require_POST
@agent_view
def schedule_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.REPLY)  # before reading the form: a refusal is a 403 whatever was sent
    send_at = moment_from(request.POST.get("send_at", ""), "send_at")
    with transaction.atomic():
        conversation = access_conversation(agent, conversation_id)
        channel_id = _optional_int(request.POST.get("channel_id"), "channel_id")
        channel = access_channel(agent, channel_id) if channel_id else None
        scheduled = do_schedule_reply(agent, conversation, request.POST.get("text", ""), send_at, channel=channel)
    return _done(request, {"scheduled_id": scheduled.pk, "send_at": scheduled.send_at.isoformat()},
                 _back(conversation_id))


@require_POST
@agent_view
def cancel_scheduled_view(request: HttpRequest, scheduled_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.REPLY)  # before reading the form: a refusal is a 403 whatever was sent
    with transaction.atomic():
        scheduled = do_cancel_scheduled_reply(agent, access_scheduled_reply(agent, scheduled_id))
    return _done(request, {"state": scheduled.state}, _back(scheduled.conversation_id))


@require_POST
@agent_view
def macro_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.REPLY)  # before reading the form: a refusal is a 403 whatever was sent
    macro_id = _optional_int(request.POST.get("macro"), "macro")
    if macro_id is None:
        raise ValidationFailed(_("Choose a macro."), code="no_macro", field="macro")
    with transaction.atomic():
        conversation = access_conversation(agent, conversation_id, for_update=True)
        message = do_apply_macro(agent, conversation, access_macro(agent, macro_id))
    body: dict[str, Any] = {"message_id": message.pk if message else None, "status": conversation.status}
    return _done(request, body, _back(conversation_id))


@require_POST
@agent_view
def retry_view(request: HttpRequest, message_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        message = do_retry_delivery(agent, access_message(agent, message_id))
    return _done(request, {"message_id": message.pk, "status": message.status}, _back(message.conversation_id))


@require_POST
@agent_view
def resend_view(request: HttpRequest, message_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.REPLY)  # before reading the form: a refusal is a 403 whatever was sent
    with transaction.atomic():
        message = access_message(agent, message_id)
        channel_id = _optional_int(request.POST.get("channel_id"), "channel_id")
        if channel_id is None:
            raise ValidationFailed(_("Choose a channel."), code="no_channel", field="channel_id")
        copy = do_resend_on_channel(agent, message, access_channel(agent, channel_id))
    return _done(request, {"message_id": copy.pk, "status": copy.status}, _back(message.conversation_id))
