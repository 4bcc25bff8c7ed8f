"""Customers writing in through the real entry point, and the worker running the event pipeline."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from threadline.channels.base import InboundMessage
from threadline.channels.models import Channel
from threadline.conversations.actions import receive_inbound_message
from threadline.conversations.models import Message
from threadline.jobs.worker import Worker


def drain() -> None:
    Worker(worker_id="test:search:0").run_until_idle()


def writes(channel: Channel, text: str, *, address: str = "dana@example.com", name: str = "Dana Levi",
           subject: str = "", **extra: Any) -> Message:
    """A customer's message, received and processed by the pipeline (so the index has it)."""
    with transaction.atomic():
        message = receive_inbound_message(channel, InboundMessage(
            provider_message_id=f"{address}:{text}:{subject}", sender_kind="email", sender_address=address,
            sender_name=name, text=text, subject=subject, **extra))
    drain()
    return message
