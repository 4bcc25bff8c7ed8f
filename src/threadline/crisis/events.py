from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class CrisisOpened(DomainEvent):
    type = "crisis.opened"
    crisis_id: int
    key: str
    kind: str


@dataclass(frozen=True, kw_only=True)
class CrisisClosed(DomainEvent):
    type = "crisis.closed"
    crisis_id: int
    key: str
    reason: str
