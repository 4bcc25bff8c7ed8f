"""Durable subscriber: the channel's delivery result of a message outreach sent makes its recipient row
delivered or failed. Cost per event: none for a workspace that never used outreach (one read per worker batch,
`core.batch_cache`); else one indexed read (`interested`) and, when the message is ours, one indexed update."""

from __future__ import annotations

from typing import Any

from threadline.core.batch_cache import cached
from threadline.core.prepared import Prepared
from threadline.outreach.actions import do_record_outcome
from threadline.outreach.models import Campaign, OutreachDelivery

_ANY_CAMPAIGN = Prepared(lambda workspace_id: Campaign.objects.filter(workspace_id=workspace_id))


def _uses_outreach(workspace_id: int) -> bool:
    return bool(cached(("outreach.any", workspace_id), lambda: _ANY_CAMPAIGN.exists(workspace_id)))


def interested(event_type: str, payload: dict[str, Any]) -> bool:
    return _uses_outreach(payload["workspace_id"]) and OutreachDelivery.objects.filter(
        message_id=payload["message_id"]).exists()


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    do_record_outcome(payload["message_id"], payload["status"], payload.get("reason") or "")
