"""Durable subscriber: every inbound message gets its language (idempotent: detection runs once)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from threadline.conversations.models import Message
from threadline.core.batch_cache import forget, remember
from threadline.language.actions import detected_key, ensure_detected


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    if event_type != "message.received":
        return
    forget(detected_key(outbox_id))  # an outbox id reused after a rollback (SQLite) never finds a stale one
    with transaction.atomic(savepoint=False):  # dispatch runs each subscriber in a savepoint already
        language = ensure_detected(Message(pk=payload["message_id"]))  # reads and locks the row itself
    if language:
        remember(detected_key(outbox_id), language)
