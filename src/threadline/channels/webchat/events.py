from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class VisitorIdentified(DomainEvent):
    type = "webchat.visitor_identified"
    channel_id: int
    contact_id: int
    user_id: str


@dataclass(frozen=True, kw_only=True)
class VisitorEventTracked(DomainEvent):
    type = "webchat.event_tracked"
    channel_id: int
    contact_id: int | None
    name: str
    properties: dict[str, Any] = field(default_factory=dict)
