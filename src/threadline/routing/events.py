from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class RoutingEscalated(DomainEvent):
    """Nobody in the team and its overflow chain could take the conversation; `recipient_ids` are told."""

    type = "routing.escalated"
    conversation_id: int
    team_id: int
    recipient_ids: list[int]
