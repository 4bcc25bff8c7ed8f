from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class SurveyAnswered(DomainEvent):
    """A customer answered a survey (automations trigger on a low score)."""

    type = "survey.answered"
    response_id: int
    conversation_id: int
    contact_id: int
    channel_id: int | None
    kind: str
    score: int
