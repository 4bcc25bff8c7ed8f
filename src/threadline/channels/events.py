"""Events of the channels domain."""

from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class InboundEventFailed(DomainEvent):
    """An acknowledged inbound payload could not be stored: it needs an admin's attention (replay after a fix)."""

    type = "inbound_event.failed"
    inbound_event_id: int
    channel_id: int
    channel_kind: str
    error_code: str
    reason: str
