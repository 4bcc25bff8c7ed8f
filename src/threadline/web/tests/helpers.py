"""Builders for the workspace tests: customers writing in on real channels (the API and web chat channels),
through the same entry points the channels use."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from threadline.channels.base import InboundMessage
from threadline.channels.models import Channel
from threadline.conversations.actions import receive_inbound_message
from threadline.conversations.models import Message

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}


def customer_writes(channel: Channel, text: str, *, address: str = "dana@example.com", name: str = "Dana Levi",
                    kind: str = "email", message_id: str | None = None, **extra: Any) -> Message:
    with transaction.atomic():
        return receive_inbound_message(channel, InboundMessage(
            provider_message_id=message_id or f"{address}:{text}", sender_kind=kind, sender_address=address,
            sender_name=name, text=text, **extra))
