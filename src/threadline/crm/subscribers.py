"""Durable subscriber: a solved conversation is logged in each connected CRM, by a job (the CRM is called over
the network, never inside the event's transaction)."""

from __future__ import annotations

from typing import Any

from threadline.conversations.models import Status
from threadline.core.batch_cache import cached
from threadline.core.prepared import Prepared
from threadline.crm.models import CrmConnection

_ACTIVE = Prepared(lambda workspace_id: CrmConnection.objects.filter(workspace_id=workspace_id, is_active=True)
                   .values_list("pk", flat=True))


def _connections(workspace_id: int) -> list[int]:
    return cached(("crm.connections", workspace_id), lambda: _ACTIVE.all(workspace_id))


def interested(event_type: str, payload: dict[str, Any]) -> bool:
    return (payload.get("changes") or {}).get("status") == Status.SOLVED and bool(_connections(payload["workspace_id"]))


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    from threadline.crm.tasks import log_conversation_task

    for connection_id in _connections(payload["workspace_id"]):
        log_conversation_task.enqueue(connection_id, payload["conversation_id"],
                                      unique_key=f"crm:log:{connection_id}:{outbox_id}")
