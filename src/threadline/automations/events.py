from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class AutomationNotificationRequested(DomainEvent):
    """An automation asks agents to look at a conversation (real-time fan-out and webhooks deliver it)."""

    type = "automation.notification_requested"
    conversation_id: int
    automation_id: int
    recipient_ids: list[int]
    text: str
