"""The bot's outcomes, for analytics (deflection): resolved by the bot, handed over, abandoned."""

from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class BotResolved(DomainEvent):
    """The customer said the answer helped and wrote nothing more within the window."""

    type = "bot.resolved"
    conversation_id: int
    channel_id: int | None
    turns: int
    article_ids: list[int]


@dataclass(frozen=True, kw_only=True)
class BotHandedOver(DomainEvent):
    """The bot gave the conversation to people (`reason`: asked, not_helped, low_confidence, max_turns, email,
    external, cannot_send)."""

    type = "bot.handed_over"
    conversation_id: int
    channel_id: int | None
    turns: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class BotAbandoned(DomainEvent):
    """The customer went silent after the bot's last turn for the settings' abandon hours."""

    type = "bot.abandoned"
    conversation_id: int
    channel_id: int | None
    turns: int
