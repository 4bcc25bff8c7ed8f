"""Real-time fan-out of domain events to the agents' WebSocket groups (the workspace UI arrives later)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def workspace_group(workspace_id: int) -> str:
    return f"workspace.{workspace_id}"


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    layer = get_channel_layer()
    workspace_id = payload.get("workspace_id")
    if layer is None or workspace_id is None:
        return
    async_to_sync(layer.group_send)(
        workspace_group(int(workspace_id)),
        {"type": "domain.event", "event": event_type, "id": outbox_id, "payload": payload},
    )
