from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class LanguageSet(DomainEvent):
    """A conversation's (and message's) language was detected, or corrected by an agent."""

    type = "language.set"
    conversation_id: int
    message_id: int | None
    language: str
    previous: str
    source: str  # "script", "model", "contact", "workspace" or "agent"
    confidence: float | None
    actor_id: int | None
