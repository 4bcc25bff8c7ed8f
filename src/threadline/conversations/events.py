from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ConversationCreated(DomainEvent):
    type = "conversation.created"
    conversation_id: int
    contact_id: int
    channel_id: int | None
    previous_id: int | None


@dataclass(frozen=True, kw_only=True)
class ConversationUpdated(DomainEvent):
    type = "conversation.updated"
    conversation_id: int
    changes: dict[str, object]
    actor_id: int | None


@dataclass(frozen=True, kw_only=True)
class ConversationMerged(DomainEvent):
    type = "conversation.merged"
    conversation_id: int
    into_id: int
    actor_id: int | None


@dataclass(frozen=True, kw_only=True)
class MessageReceived(DomainEvent):
    type = "message.received"
    message_id: int
    conversation_id: int
    contact_id: int
    channel_id: int | None
    channel_kind: str
    text: str


def received_at_key(outbox_id: int) -> tuple[str, int]:
    """The batch-cache key of the creation time of the message behind `message.received` outbox row
    `outbox_id` (`core.batch_cache.remember`; `publish_received` keeps it, the SLA subscriber reads it)."""
    return ("message.received.at", outbox_id)


@dataclass(frozen=True, kw_only=True)
class MessageCreated(DomainEvent):
    """An agent's (or bot's) reply or internal note."""

    type = "message.created"
    message_id: int
    conversation_id: int
    channel_id: int | None
    author_id: int | None
    is_note: bool
    text: str


@dataclass(frozen=True, kw_only=True)
class MessageStatusChanged(DomainEvent):
    type = "message.status_changed"
    message_id: int
    conversation_id: int
    status: str
    reason: str
