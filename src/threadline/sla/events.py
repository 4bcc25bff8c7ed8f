from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class SlaWarned(DomainEvent):
    """A target will be missed soon (the policy's `warn_before_minutes` of business time are left)."""

    type = "sla.warned"
    conversation_id: int
    timer_id: int
    metric: str
    due_at: str


@dataclass(frozen=True, kw_only=True)
class SlaBreached(DomainEvent):
    type = "sla.breached"
    conversation_id: int
    timer_id: int
    metric: str
    due_at: str
    policy_id: int


@dataclass(frozen=True, kw_only=True)
class SlaNotificationRequested(DomainEvent):
    """An escalation asks these agents to look at a conversation (delivered in real time and by webhooks)."""

    type = "sla.notification_requested"
    conversation_id: int
    metric: str
    recipient_ids: list[int]
