"""Durable subscriber of `social.item_received`: the crisis detector counts the mention (crisis/actions.py).
Only database work; the alert mail is a job enqueued in the same transaction."""

from __future__ import annotations

from typing import Any

from threadline.crisis.actions import do_count_mention


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    if event_type != "social.item_received" or not payload.get("workspace_id"):
        return
    do_count_mention(int(payload["workspace_id"]), outbox_id, payload)
