"""Durable subscriber: run event automations for every trigger event (idempotent per outbox event)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from threadline.automations.actions import TRIGGERS, do_run_event
from threadline.core.time import now


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    if event_type not in TRIGGERS or not payload.get("conversation_id"):
        return
    with transaction.atomic():
        do_run_event(event_type, payload, outbox_id, now())
