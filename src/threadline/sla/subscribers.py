"""Durable subscriber: conversation and message events drive the SLA timers (idempotent per event)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from threadline.conversations.models import Conversation, Message, Status
from threadline.events.models import OutboxEvent
from threadline.sla import actions
from threadline.sla.models import Metric

RESPONSE_METRICS = [Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE]
TYPES = frozenset({"conversation.created", "conversation.updated", "message.received", "message.created"})


def _locked_conversation(conversation_id: int, workspace_id: int) -> Conversation | None:
    """The conversation, locked; with what policies' conditions read when the workspace has policies."""
    related = ("contact", "origin_channel", "last_inbound_channel", "team") if actions.has_policies(workspace_id) else ()
    return (Conversation.objects.select_for_update(of=("self",)).select_related(*related)
            .filter(pk=conversation_id, merged_into__isnull=True).first())


def _moment(payload: dict[str, Any], outbox_id: int) -> dt.datetime:
    message_id = payload.get("message_id")
    if message_id:
        created = Message.objects.filter(pk=message_id).values_list("created_at", flat=True).first()
        if created:
            return created
    return OutboxEvent.objects.values_list("created_at", flat=True).get(pk=outbox_id)


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    if event_type not in TYPES:
        return
    if event_type == "message.created" and (payload.get("is_note") or payload.get("author_id") is None):
        return  # only an agent's reply answers the customer
    with transaction.atomic(savepoint=False):  # dispatch runs each subscriber in a savepoint already
        conversation = _locked_conversation(payload["conversation_id"], payload["workspace_id"])
        if conversation is None:
            return
        at = _moment(payload, outbox_id)
        if event_type == "conversation.created":
            actions.do_apply_policy(conversation, at)
        elif event_type == "message.received":
            if conversation.status in (Status.NEW, Status.OPEN):
                actions.do_resume(conversation, at)  # a reply reopens a pending conversation without an update event
            actions.do_apply_policy(conversation, at)
            actions.do_start_next_response(conversation, at)
        elif event_type == "message.created":
            actions.do_fulfil(conversation, RESPONSE_METRICS, at)
        elif event_type == "conversation.updated":
            changes = payload.get("changes", {})
            if "status" in changes:
                _status_changed(conversation, at)
            elif {"priority", "team_id", "tags"} & set(changes):
                actions.do_apply_policy(conversation, at)


def _status_changed(conversation: Conversation, at: dt.datetime) -> None:
    if conversation.status in (Status.PENDING, Status.ON_HOLD):
        actions.do_pause(conversation, at)
    elif conversation.status in (Status.SOLVED, Status.CLOSED):
        actions.do_fulfil(conversation, [Metric.RESOLUTION], at)
        actions.do_cancel(conversation, RESPONSE_METRICS)
    else:
        actions.do_resume(conversation, at)
        actions.do_apply_policy(conversation, at)
