"""Email threading signals: signed reply tokens, Threadline's own Message-IDs, subject references.

A reply token names a conversation and carries an HMAC of it keyed with the server's secret, so a customer
(or a spammer) cannot make a message land in someone else's conversation by editing an address. It travels
in the plus-addressed Reply-To (`support+c42-1a2b3c4d5e6f@example.com`) and inside every Message-ID
Threadline sends (`<tl.1234.c42-1a2b3c4d5e6f@example.com>`), so a reply threads even when the client drops
the plus address or the References header.

The subject reference `[#42]` is only a fallback, and only for a sender who is the conversation's contact
or one of its participants: never thread on a subject across senders.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from threadline.core import crypto

TOKEN = re.compile(r"^c(\d{1,18})-([0-9a-f]{12})$")
OUR_MESSAGE_ID = re.compile(r"^<tl\.[0-9a-z]+\.(c\d{1,18}-[0-9a-f]{12})@[^>]+>$", re.IGNORECASE)
SUBJECT_REFERENCE = re.compile(r"\[#(\d{1,18})\]")


def _signature(workspace_id: int, conversation_id: int) -> str:
    return crypto.hmac_sha256_hex(f"{settings.SECRET_KEY}:email-reply-token", f"{workspace_id}:{conversation_id}"
                                  .encode())[:12]


def reply_token(workspace_id: int, conversation_id: int) -> str:
    return f"c{conversation_id}-{_signature(workspace_id, conversation_id)}"


def verify_token(workspace_id: int, token: str) -> int | None:
    """The conversation id the token names, when its signature is valid for this workspace."""
    match = TOKEN.match((token or "").lower())
    if match is None:
        return None
    conversation_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2), _signature(workspace_id, conversation_id)):
        return None
    return conversation_id


BOUNCE_TOKEN = re.compile(r"^b(\d{1,18})-([0-9a-f]{12})$")


def bounce_token(workspace_id: int, message_pk: int) -> str:
    """The VERP part of an outbound message's Return-Path: bounces name the message they concern."""
    sig = crypto.hmac_sha256_hex(f"{settings.SECRET_KEY}:email-bounce", f"{workspace_id}:{message_pk}".encode())
    return f"b{message_pk}-{sig[:12]}"


def verify_bounce_token(workspace_id: int, token: str) -> int | None:
    match = BOUNCE_TOKEN.match((token or "").lower())
    if match is None:
        return None
    pk = int(match.group(1))
    return pk if hmac.compare_digest(bounce_token(workspace_id, pk), match.group(0)) else None


def plus_address(address: str, token: str) -> str:
    local, _sep, domain = address.partition("@")
    return f"{local}+{token}@{domain}"


def token_of_address(address: str) -> str:
    local = address.partition("@")[0]
    return local.partition("+")[2] if "+" in local else ""


def new_message_id(domain: str, message_id: int | None = None, token: str = "", *, stable: str = "") -> str:
    """A Message-ID of ours; with `stable` (hex, from the delivery's idempotency key) the same on every attempt
    of a message's delivery, so a copy sent again after a crash is the same message to mail stores and clients
    (RFC 5322: a Message-ID names one message); otherwise random."""
    suffix = stable[:8] if stable else secrets.token_hex(4)
    unique = f"{message_id}x{suffix}" if message_id is not None else secrets.token_hex(8)
    if token:
        return f"<tl.{unique}.{token}@{domain}>"
    return f"<tl.{unique}@{domain}>"


def token_of_message_id(message_id: str) -> str:
    match = OUR_MESSAGE_ID.match(message_id or "")
    return match.group(1).lower() if match else ""


def subject_reference(subject: str) -> int | None:
    match = SUBJECT_REFERENCE.search(subject or "")
    return int(match.group(1)) if match else None


def with_reference(subject: str, conversation_id: int) -> str:
    """`Re: <subject> [#42]`, without stacking prefixes or references."""
    base = SUBJECT_REFERENCE.sub("", subject or "").strip()
    while re.match(r"^(re|fw|fwd|aw|tr|sv|vs|odp|תגובה|پاسخ|ตอบกลับ)\s*:\s*", base, re.IGNORECASE):
        base = re.sub(r"^[^:]+:\s*", "", base, count=1)
    base = base or _("Your request")
    return f"Re: {base} [#{conversation_id}]"


def ordered_references(in_reply_to: list[str], references: list[str]) -> tuple[str, ...]:
    """Earlier message ids to try, newest first: In-Reply-To, then References from the last one back."""
    ordered: list[str] = []
    for token in [*in_reply_to, *reversed(references)]:
        if token not in ordered:
            ordered.append(token)
    return tuple(ordered[:50])


@dataclass
class ThreadHints:
    conversation_hint: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


EXPLANATIONS = {
    "reply_address": gettext_lazy("The customer replied to the conversation's signed reply address (%(token)s)."),
    "message_id_token": gettext_lazy("The %(header)s header names a message Threadline sent in this conversation."),
    "references": gettext_lazy("The %(header)s header names an earlier message of this conversation (%(matched)s)."),
    "subject_reference": gettext_lazy("The subject names conversation %(reference)s and the sender takes part in it."),
}


def explain(message_metadata: dict[str, Any]) -> str:
    """One sentence saying why a message landed in its conversation (for the agent's timeline)."""
    detail = (message_metadata.get("email") or {}).get("threading") or {}
    rule = (message_metadata.get("threading") or {}).get("rule", "")
    signal = detail.get("signal", "")
    if signal in EXPLANATIONS and rule in ("conversation_hint", "references"):
        return str(EXPLANATIONS[signal]) % {k: detail.get(k, "") for k in ("token", "header", "matched",
                                                                          "reference")}
    generic = {
        "contact_open_conversation": _("The sender's open conversation was continued."),
        "reopened_within_window": _("The sender's recently solved conversation was reopened."),
        "new_conversation": _("Nothing linked this message to an earlier conversation: a new one was opened."),
        "conversation_hint": _("The message carried a signed reference to this conversation."),
        "references": _("The message answers an earlier message of this conversation."),
    }
    return str(generic.get(rule, _("Threaded by the channel's rules.")))
