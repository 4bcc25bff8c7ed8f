"""Durable subscriber: a solved conversation gets its survey; an inbound message threading filed as a survey
answer is recorded (idempotent: a request is answered once); digits keyed in after a call are recorded."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from threadline.conversations.models import Conversation, Message, Status
from threadline.core.batch_cache import cached
from threadline.core.prepared import Prepared
from threadline.surveys.actions import do_record_answer, do_send_survey
from threadline.surveys.answers import RULE
from threadline.surveys.models import Survey, SurveyRequest
from threadline.surveys.voice import do_record_call_answer


def interested(event_type: str, payload: dict[str, Any]) -> bool:
    if event_type == "call.recorded":
        return payload.get("event") == "survey"
    if event_type == "message.received":  # no survey, no request (they go with it): one read per batch
        return _has_surveys(payload["workspace_id"]) and SurveyRequest.objects.filter(
            contact_id=payload["contact_id"], answered_at__isnull=True).exists()
    return (payload.get("changes") or {}).get("status") == Status.SOLVED and Survey.objects.filter(
        workspace_id=payload["workspace_id"], enabled=True).exists()


_ANY_SURVEY = Prepared(lambda workspace_id: Survey.objects.filter(workspace_id=workspace_id))


def _has_surveys(workspace_id: int) -> bool:
    """Whether the workspace has any survey, on or off (configuration: read once per worker batch)."""
    return bool(cached(("surveys.any", workspace_id), lambda: _ANY_SURVEY.exists(workspace_id)))


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    with transaction.atomic(savepoint=False):  # dispatch runs each subscriber in a savepoint already
        if event_type == "conversation.updated" and (payload.get("changes") or {}).get("status") == Status.SOLVED:
            conversation = (Conversation.objects.select_related("workspace", "contact")
                            .filter(pk=payload["conversation_id"]).first())
            if conversation is not None and not SurveyRequest.objects.filter(conversation=conversation,
                                                                              answered_at__isnull=True).exists():
                do_send_survey(conversation)
        elif event_type == "call.recorded" and payload.get("event") == "survey":
            do_record_call_answer(payload["conversation_id"], payload["call_id"])
        elif event_type == "message.received":
            message = Message.objects.filter(pk=payload["message_id"]).first()
            threading = ((message.metadata or {}).get("threading") or {}) if message else {}
            if message is None or threading.get("rule") != RULE:
                return
            request = SurveyRequest.objects.filter(pk=threading["request_id"]).first()
            if request is not None:
                do_record_answer(request, int(threading["score"]), channel_id=message.channel_id, message=message)
