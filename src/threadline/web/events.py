from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class AgentMentioned(DomainEvent):
    type = "agent.mentioned"
    membership_id: int
    author_id: int | None
    conversation_id: int
    message_id: int
    text: str


@dataclass(frozen=True, kw_only=True)
class ConversationSnoozed(DomainEvent):
    type = "conversation.snoozed"
    conversation_id: int
    until: str
    actor_id: int | None
