"""Durable subscriber: the channel's delivery result of a message outreach sent makes its recipient row
delivered or failed. Cost per event: one indexed read (`interested`), one indexed update when it is ours."""

from __future__ import annotations

from typing import Any

from threadline.outreach.actions import do_record_outcome
from threadline.outreach.models import OutreachDelivery


def interested(event_type: str, payload: dict[str, Any]) -> bool:
    return OutreachDelivery.objects.filter(message_id=payload["message_id"]).exists()


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    do_record_outcome(payload["message_id"], payload["status"], payload.get("reason") or "")
