"""Builders for the contacts tests: inbound messages through the real entry point, agents' actions in a transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from threadline.channels.base import InboundMessage
from threadline.channels.models import Channel
from threadline.conversations.actions import receive_inbound_message
from threadline.conversations.models import Message

_counter = iter(range(1, 1_000_000))


def inbound(channel: Channel, kind: str, address: str, *, name: str = "", text: str = "hello", **fields: Any) -> Message:
    """One customer message as a channel would hand it over; returns the stored message."""
    item = InboundMessage(provider_message_id=f"m-{next(_counter)}", sender_kind=kind, sender_address=address,
                          sender_name=name, text=text, **fields)
    with transaction.atomic():
        return receive_inbound_message(channel, item)


def atomic(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Call an action as a view would: inside the caller's transaction."""
    with transaction.atomic():
        return function(*args, **kwargs)
