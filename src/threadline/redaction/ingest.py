"""Masking personal identifiers when a message arrives.

`redact_inbound` is called once by `conversations.actions.receive_inbound_message`, so every channel is
covered (the widget too, whose raw message is stored under the message's provider id); `redact_inbound_event`
by the channel-neutral `channels.inbound.process_event` once a stored payload is applied (every webhook, SMTP
and IMAP edge); `mask_text` by the public forms that store a customer's words outside a message (a survey's
comment, an article's feedback comment). The detectors of `detectors.py` run over the message's text, html and subject and over the raw
payload, for the workspace's countries, unless the workspace turned `redact_pii` off. A payload that fails
processing keeps its bytes until it is replayed (an admin needs it to fix the cause).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from threadline.channels.base import InboundMessage
from threadline.channels.models import Channel, InboundEvent
from threadline.redaction import detectors
from threadline.redaction.payloads import rewrite_payload
from threadline.tenancy.models import Workspace

TEXT_KEYS = frozenset({"text", "html", "subject", "folded", "full_text", "caption", "body", "title"})


def masker_for(workspace: Workspace) -> Callable[[str], str] | None:
    """The function masking a workspace's inbound text, or None when the workspace turned redaction off."""
    if not workspace.redact_pii:
        return None
    countries = workspace.country_codes
    return lambda text: detectors.mask(text, countries)[0] if text else text


def mask_text(workspace: Workspace, text: str) -> str:
    """A customer's text stored outside a message, masked like an inbound message's."""
    fn = masker_for(workspace)
    return fn(text) if fn is not None else text


def redact_inbound(channel: Channel, item: InboundMessage) -> InboundMessage:
    """`item` with personal identifiers masked in its text, html and subject; the channel's raw payload stored
    under the message's provider id (the widget's) masked too. Everything stored from the item afterwards
    (message, subject, `message.received` event, webhook bodies) holds the masked text only."""
    fn = masker_for(channel.workspace)
    if fn is None:
        return item
    masked = dataclasses.replace(item, text=fn(item.text), html=fn(item.html), subject=fn(item.subject),
                                 metadata=_mask_text_keys(item.metadata, fn))
    if masked != item and item.provider_message_id:
        for event in InboundEvent.objects.filter(channel=channel, idempotency_key=item.provider_message_id[:255]):
            rewrite_event(event, fn)
    return masked


def _mask_text_keys(value: Any, fn: Callable[[str], str]) -> Any:
    """Metadata with the strings under TEXT_KEYS masked (an email's folded quote, its full text, its subject);
    identifiers (Message-IDs, references, addresses) are left as they are, threading relies on them."""
    if isinstance(value, dict):
        return {k: fn(v) if k in TEXT_KEYS and isinstance(v, str) else _mask_text_keys(v, fn)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_text_keys(v, fn) for v in value]
    return value


def redact_inbound_event(event: InboundEvent) -> None:
    """Mask personal identifiers in a processed raw payload (every webhook, SMTP and IMAP edge stores one)."""
    fn = masker_for(event.channel.workspace)
    if fn is not None:
        rewrite_event(event, fn)


def rewrite_event(event: InboundEvent, fn: Callable[[str], str], drop: frozenset[str] = frozenset()) -> bool:
    body = bytes(event.body)
    new = rewrite_payload(body, fn, content_type=str(event.headers.get("content-type", "")), drop_sha256=drop)
    if new == body:
        return False
    event.body = new
    event.save(update_fields=["body", "updated_at"])
    return True
