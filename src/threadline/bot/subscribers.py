"""Durable subscriber: the bot answers customer messages of conversations in bot mode (idempotent per event).

It runs before routing (events/registry.py), which leaves a conversation the bot holds alone.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from threadline.bot.actions import do_handle_message
from threadline.bot.queries import bot_enabled
from threadline.conversations.models import AuthorKind, Message
from threadline.language.actions import ensure_detected


def interested(event_type: str, payload: dict[str, Any]) -> bool:
    """Only workspaces with a bot switched on have anything to do."""
    return bot_enabled(payload["workspace_id"])


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    if event_type != "message.received":
        return
    with transaction.atomic(savepoint=False):  # dispatch runs each subscriber in a savepoint already
        message = (Message.objects.select_related("conversation__workspace", "channel")
                   .filter(pk=payload["message_id"], author_kind=AuthorKind.CONTACT).first())
        if message is None:
            return  # never its own (or an agent's) messages
        ensure_detected(message)
        do_handle_message(message, outbox_id)
