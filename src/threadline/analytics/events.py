from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class AlertFired(DomainEvent):
    """An alert rule's metric crossed its threshold (its recipients are told in /app/ and by email)."""

    type = "alert.fired"
    rule_id: int
    name: str
    metric: str
    comparison: str
    threshold: float
    value: float | None
    recipient_ids: list[int]


@dataclass(frozen=True, kw_only=True)
class AlertCleared(DomainEvent):
    """An alert rule's metric is back on the right side of its threshold."""

    type = "alert.cleared"
    rule_id: int
    name: str
    metric: str
    value: float | None
