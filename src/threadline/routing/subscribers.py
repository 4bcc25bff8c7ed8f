"""Durable subscriber: route each new inbound conversation, retry waiting ones when capacity frees, and hand a
deactivated agent's conversations back to routing."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from threadline.bot.queries import holds as bot_holds
from threadline.conversations.models import Conversation, Message, Status
from threadline.core.batch_cache import recall
from threadline.core.batch_rows import fresh
from threadline.core.prepared import Prepared
from threadline.language.actions import detected_key, ensure_detected
from threadline.routing.actions import do_hand_back, do_route

FREEING = {Status.SOLVED, Status.CLOSED, Status.PENDING}
_LANGUAGE = Prepared(lambda pk: Message.objects.filter(pk=pk).values_list("language", flat=True))
RELATED = ("team", "origin_channel", "last_inbound_channel")
_CONVERSATION = Prepared(lambda pk: Conversation.objects.select_for_update(of=("self",)).select_related(
    *RELATED).filter(pk=pk))


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    if event_type == "message.received":
        with transaction.atomic(savepoint=False):  # dispatch runs each subscriber in a savepoint already
            language = recall(detected_key(outbox_id))  # the language subscriber ran before, in this batch
            if language is None:
                language = _LANGUAGE.one(payload["message_id"])
                if language is None:
                    return
                ensure_detected(Message(pk=payload["message_id"], language=language))
            conversation = fresh(Conversation, payload["conversation_id"], RELATED) or _CONVERSATION.one(
                payload["conversation_id"])  # handed over by the inbound job that wrote it (core.batch_rows)
            if conversation is not None and conversation.assignee_id is None and not bot_holds(
                    conversation, payload["message_id"]):
                do_route(conversation)  # the bot routes a conversation it holds when it hands it over
    elif event_type == "conversation.updated":
        changes = payload.get("changes", {})
        if changes.get("status") in FREEING or ("assignee_id" in changes and changes["assignee_id"] is None):
            from threadline.routing.tasks import route_waiting_task

            with transaction.atomic(savepoint=False):
                route_waiting_task.enqueue(payload["workspace_id"], unique_key=f"route-waiting:{outbox_id}")
    elif event_type == "agent.updated" and payload.get("changes", {}).get("is_active") is False:
        with transaction.atomic():
            do_hand_back(payload["membership_id"])
