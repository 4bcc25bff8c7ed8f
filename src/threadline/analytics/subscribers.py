"""Durable subscriber: an event about a conversation marks its facts stale (one upsert, no job); a `bot.*`
outcome is kept for the facts. The refresh task (`tasks.refresh_facts_task`, every minute) recomputes the
stale conversations from their rows, so applying an event twice, or out of order, changes nothing."""

from __future__ import annotations

from typing import Any

from threadline.analytics.models import BotOutcome, StaleConversation
from threadline.core.row_writes import insert_rows
from threadline.core.time import now

BOT_OUTCOMES = {"bot.resolved": "resolved", "bot.handed_over": "handed_over", "bot.abandoned": "abandoned"}
# Only types that other durable subscribers (SLA, routing) already take without an `interested` check, so this
# subscriber never causes a dispatch job of its own (ADR 0005); the bot's outcomes are rare (one per chat).
# `survey.answered` too: an answer by an email link or after a call comes with no message (automations already
# take it, so it adds no dispatch job either).
TYPES = frozenset({"conversation.created", "conversation.updated", "message.received", "message.created",
                   "conversation.merged", "survey.answered", *BOT_OUTCOMES})


def interested(event_type: str, payload: dict[str, Any]) -> bool:
    """A new conversation is marked by the `message.received` that comes with it; `conversation.created` only
    matters when it names a previous conversation (a split takes a message out of it)."""
    return event_type != "conversation.created" or bool(payload.get("previous_id"))


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    conversation_id = payload.get("conversation_id")
    if not conversation_id:
        return
    workspace_id = payload["workspace_id"]
    if event_type in BOT_OUTCOMES:
        outcome = BOT_OUTCOMES[event_type]  # the latest event wins, whatever order they are applied in
        if not BotOutcome.objects.filter(conversation_id=conversation_id, outbox_id__lt=outbox_id).update(
                outcome=outcome, outbox_id=outbox_id):
            BotOutcome.objects.get_or_create(conversation_id=conversation_id, defaults={
                "workspace_id": workspace_id, "outcome": outcome, "outbox_id": outbox_id})
    marks = [conversation_id, *(payload[key] for key in ("into_id", "previous_id") if payload.get(key))]
    moment = now()
    insert_rows([StaleConversation(conversation_id=pk, workspace_id=workspace_id, marked_at=moment) for pk in marks],
                conflicts="update", unique_fields=["conversation_id"], update_fields=["marked_at"])
