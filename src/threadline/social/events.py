from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class SocialItemReceived(DomainEvent):
    """A new public item was stored and triaged (the crisis detector counts these)."""

    type = "social.item_received"
    item_id: int
    channel_kind: str
    category: str
    sentiment: float
    topics: list[str]
    created_at: str  # ISO 8601, when the item was posted


@dataclass(frozen=True, kw_only=True)
class SocialItemUpdated(DomainEvent):
    """An agent or a rule acted on a public item (answered, moved to private, hidden, deleted, routed)."""

    type = "social.item_updated"
    item_id: int
    status: str
    action: str
