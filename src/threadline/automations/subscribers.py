"""Durable subscriber: run event automations for every trigger event (idempotent per outbox event)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from threadline.automations.actions import TRIGGERS, do_run_event, event_rules
from threadline.core.time import now


def interested(event_type: str, payload: dict[str, Any]) -> bool:
    return (event_type in TRIGGERS and bool(payload.get("conversation_id"))
            and bool(event_rules(event_type, payload["workspace_id"])))


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    if event_type not in TRIGGERS or not payload.get("conversation_id"):
        return
    with transaction.atomic(savepoint=False):  # dispatch runs each subscriber in a savepoint already
        do_run_event(event_type, payload, outbox_id, now())
