"""Durable subscriber: conversation and message events drive the SLA timers (idempotent per event)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from threadline.conversations.events import received_at_key
from threadline.conversations.models import Conversation, Message, Status
from threadline.core.batch_cache import recall
from threadline.core.batch_rows import fresh
from threadline.core.prepared import Prepared
from threadline.events.bus import published_at
from threadline.sla import actions
from threadline.sla.models import LIVE_STATES, Metric, SlaTimer

RESPONSE_METRICS = [Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE]
TYPES = frozenset({"conversation.created", "conversation.updated", "message.received", "message.created"})
_CONVERSATION = Prepared(lambda pk: Conversation.objects.select_for_update(of=("self",)).filter(
    pk=pk, merged_into__isnull=True))
POLICY_RELATED = ("contact", "origin_channel", "last_inbound_channel", "team")
_CONVERSATION_FOR_POLICIES = Prepared(lambda pk: Conversation.objects.select_for_update(of=("self",)).select_related(
    *POLICY_RELATED).filter(pk=pk, merged_into__isnull=True))
_LIVE_TIMER = Prepared(lambda conversation_id: SlaTimer.objects.filter(
    conversation_id=conversation_id, state__in=LIVE_STATES))


def _locked_conversation(conversation_id: int, workspace_id: int) -> Conversation | None:
    """The conversation, locked; with what policies' conditions read when the workspace has policies. The
    inbound job that wrote it (so holds its lock) in this savepoint hands it over (`core.batch_rows`)."""
    policies = actions.has_policies(workspace_id)
    kept = fresh(Conversation, conversation_id, POLICY_RELATED if policies else ())
    if kept is not None:
        return None if kept.merged_into_id else kept
    return (_CONVERSATION_FOR_POLICIES if policies else _CONVERSATION).one(conversation_id)


def _moment(event_type: str, payload: dict[str, Any], outbox_id: int) -> dt.datetime:
    """When the event happened: its message's creation time, else its outbox row's. Within the batch that
    stored the message, `publish_received` handed it over (`core.batch_cache`) instead of a read back."""
    if event_type == "message.received":
        known = recall(received_at_key(outbox_id))
        if isinstance(known, dt.datetime):
            return known
    message_id = payload.get("message_id")
    if message_id:
        created = Message.objects.filter(pk=message_id).order_by().values_list("created_at", flat=True)[:1]
        if created:
            return created[0]
    return published_at(outbox_id)


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    if event_type not in TYPES:
        return
    if event_type == "message.created" and (payload.get("is_note") or payload.get("author_id") is None):
        return  # only an agent's reply answers the customer
    with transaction.atomic(savepoint=False):  # dispatch runs each subscriber in a savepoint already
        conversation = _locked_conversation(payload["conversation_id"], payload["workspace_id"])
        if conversation is None:
            return
        at = _moment(event_type, payload, outbox_id)
        if event_type == "conversation.created":
            actions.do_apply_policy(conversation, at)
        elif event_type == "message.received":
            if _nothing_to_time(conversation):
                return
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


def _nothing_to_time(conversation: Conversation) -> bool:
    """No active policy in the workspace, the timers mirrored already and none live: a new message changes
    nothing (`do_resume`, `do_apply_policy` and `do_start_next_response` would each find that in a read)."""
    return (not actions.has_policies(conversation.workspace_id) and bool(conversation.sla_state)
            and not _LIVE_TIMER.exists(conversation.pk))


def _status_changed(conversation: Conversation, at: dt.datetime) -> None:
    if conversation.status in (Status.PENDING, Status.ON_HOLD):
        actions.do_pause(conversation, at)
    elif conversation.status in (Status.SOLVED, Status.CLOSED):
        actions.do_fulfil(conversation, [Metric.RESOLUTION], at)
        actions.do_cancel(conversation, RESPONSE_METRICS)
    else:
        actions.do_resume(conversation, at)
        actions.do_apply_policy(conversation, at)
