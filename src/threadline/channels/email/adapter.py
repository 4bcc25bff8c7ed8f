"""The email channel adapter: raw RFC 5322 bytes in (from the SMTP listener or an IMAP poll), MIME out.

Inbound, `parse_inbound` runs in the worker on the stored raw message: a bounce becomes a
`DeliveryStatusUpdate` (the outbound message it answers is marked failed); everything else becomes one
`InboundMessage` with the visible text (quotes and signature folded), sanitized HTML, attachments within the
limits, the threading signals (signed reply token, References, subject reference) and, in
`metadata["email"]`, what an agent needs to trust it: headers, why it was threaded, whether it is automatic.
Outbound, `send` builds the MIME message and hands it to the relay (see `sending.py`).
See docs/channels/email.md.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from django.conf import settings
from pydantic import BaseModel, Field, field_validator

from threadline.channels.base import (
    Capabilities,
    DeliveryResult,
    DeliveryStatusUpdate,
    InboundAttachment,
    InboundItem,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
    PermanentSendError,
)
from threadline.channels.email import display, loops, parsing
from threadline.channels.email import threading as thread_signals
from threadline.channels.models import Channel
from threadline.core import mime_policy
from threadline.core.errors import ValidationFailed
from threadline.core.prepared import Prepared

MAX_ATTACHMENTS = 50
MAX_TEXT = 100_000


class ImapConfig(BaseModel):
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=993, ge=1, le=65535)
    username: str = Field(min_length=1, max_length=320)
    password: str = Field(default="", max_length=1000)
    security: Literal["tls", "starttls", "none"] = "tls"
    verify_tls: bool = True
    mailbox: str = Field(default="INBOX", max_length=255)
    processed_mailbox: str = Field(default="", max_length=255,
                                   description="Move processed mail here; empty: mark it \\Seen")
    idle: bool = True


class EmailChannelConfig(BaseModel):
    address: str = Field(min_length=3, max_length=320, description="The support address, e.g. support@example.com")
    display_name: str = Field(default="", max_length=200)
    aliases: list[str] = Field(default_factory=list, max_length=50)
    catch_all_domains: list[str] = Field(default_factory=list, max_length=20,
                                         description="Accept mail for any address at these domains")
    relay_url: str = Field(default="", max_length=2000, json_schema_extra={"writeOnly": True},
                           description="smtp://user:pass@host:587 (overrides THREADLINE_SMTP_RELAY_URL); "
                                       "write-only, as it carries the relay's password")
    imap: ImapConfig | None = None
    dkim_selector: str = Field(default="", max_length=63)
    dkim_private_key: str = Field(default="", max_length=10_000)
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    sender_rate_limit_per_hour: int = Field(default=30, ge=1, le=100_000)

    @field_validator("address", "aliases", "catch_all_domains", mode="after")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [v.strip().lower() for v in value if v.strip()]
        value = value.strip().lower()
        if "@" not in value:
            raise ValueError("an email address is needed")
        return value


def config_of(channel: Channel) -> EmailChannelConfig:
    return EmailChannelConfig.model_validate(channel.config)


def idempotency_key_for(raw: bytes, message_id: str = "") -> str:
    """The InboundEvent key: the Message-ID, or a digest of the bytes when there is none."""
    if not message_id:
        try:
            message_id = parsing.message_ids(_quick_header(raw, b"message-id"))[0]
        except IndexError:
            message_id = ""
    return message_id[:255] if message_id else "sha256:" + hashlib.sha256(raw).hexdigest()


def _quick_header(raw: bytes, name: bytes) -> str:
    """One header's value read from the raw head, without parsing the whole message."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    for index, line in enumerate(lines):
        if line.lower().startswith(name + b":"):
            value = line.split(b":", 1)[1]
            for cont in lines[index + 1:]:
                if cont[:1] in (b" ", b"\t"):
                    value += cont
                else:
                    break
            return value.decode("ascii", "replace").strip()
    return ""


class EmailAdapter:
    kind: ClassVar[str] = "email"
    identity_kind: ClassVar[str] = "email"
    capabilities: ClassVar[Capabilities] = Capabilities(text=True, media=True)
    config_schema: ClassVar[type[BaseModel]] = EmailChannelConfig

    def start_listener(self, *, host: str, smtp_port: int | None) -> Callable[[], None] | None:
        """Start the inbound edges of a process (`threadline serve`, `threadline worker`): the SMTP listener
        when a port is given, and an IMAP watcher per polled mailbox where this process runs jobs."""
        from threadline.channels.email import imap, smtp_server

        listener = smtp_server.start(smtp_port, host) if smtp_port is not None else None
        watchers = imap.start_watchers() if settings.THREADLINE["EMBEDDED_WORKER"] else []
        if listener is None and not watchers:
            return None

        def stop() -> None:
            if listener is not None:
                smtp_server.stop(listener)
            imap.stop_watchers(watchers)

        return stop

    def verify(self, request: InboundRequest, channel: Channel) -> None:
        """Mail arrives through the SMTP listener or an IMAP poll, which store it themselves and never call
        this; anything posted to /hooks/email/<id>/ is refused, whatever headers it carries."""
        from threadline.channels.base import VerificationError

        raise VerificationError("email is accepted over SMTP or IMAP only")

    def idempotency_key(self, request: InboundRequest, channel: Channel) -> str:
        return idempotency_key_for(request.body)

    def parse_inbound(self, request: InboundRequest, channel: Channel) -> list[InboundItem]:
        config = config_of(channel)
        parsed = parsing.parse(request.body)
        envelope_from = "" if request.headers.get("null-sender") else (request.headers.get("mail-from") or None)
        recipients = [r for r in (request.headers.get("rcpt-to") or "").split(",") if r]
        bounce = loops.bounce_of(parsed.message, envelope_from, self._verp_message_id(channel, recipients))
        items: list[InboundItem] | None = self._bounce_updates(channel, bounce) if bounce is not None else None
        # A bounce of mail we did not send (or no longer have) is kept, but marked: never answered.
        if items is None:
            items = [self._inbound_message(channel, config, parsed, request, envelope_from, recipients, bounce)]
        if parsed.message is not None:  # read: the redaction of the stored bytes that follows need not parse them
            mime_policy.hand_over(request.body, parsed.message)
        return items

    # ── bounces ──────────────────────────────────────────────────────────────────────────────────────
    def _verp_message_id(self, channel: Channel, recipients: list[str]) -> str:
        from threadline.conversations.models import Message

        for recipient in recipients:
            pk = thread_signals.verify_bounce_token(channel.workspace_id, thread_signals.token_of_address(recipient))
            if pk is not None:
                found = Message.objects.filter(pk=pk, channel=channel).values_list("provider_message_id", flat=True)
                return next(iter(found), "")
        return ""

    def _bounce_updates(self, channel: Channel, bounce: loops.Bounce) -> list[InboundItem] | None:
        """Status updates for the outbound messages the bounce names; None when it names none of ours."""
        from threadline.conversations.models import Direction, Message

        ours = list(
            Message.objects.filter(channel=channel, direction=Direction.OUTBOUND,
                                   provider_message_id__in=list(bounce.original_message_ids))
            .values_list("provider_message_id", flat=True)
        )
        if not ours:
            return None
        reason = bounce.reason or "bounced"
        if not bounce.permanent:
            reason = f"temporary: {reason}"
        return [DeliveryStatusUpdate(provider_message_id=mid, status="failed", reason=reason) for mid in ours]

    # ── messages ─────────────────────────────────────────────────────────────────────────────────────
    def _inbound_message(
        self, channel: Channel, config: EmailChannelConfig, parsed: parsing.ParsedEmail, request: InboundRequest,
        envelope_from: str | None, recipients: list[str], bounce: loops.Bounce | None = None,
    ) -> InboundMessage:
        sender_address, sender_name = self._sender(parsed, envelope_from, request.body, config)
        text_source = parsed.text or display.html_to_text(parsed.html)
        folded = display.fold(text_source)
        attachments, skipped, inline = self._attachments(parsed)
        if parsed.malformed:
            attachments.append(InboundAttachment("original.eml", "message/rfc822", request.body[:20 * 1024 * 1024]))
        provider_id = parsed.message_id or idempotency_key_for(request.body)
        auto = loops.auto_reply_reason(parsed.message, parsed.subject, envelope_from) or (
            "delivery failure" if bounce is not None else "")
        hints = self._thread_hints(channel, parsed, recipients, sender_address)
        loop = self._loop_suspected(channel, config, sender_address)
        text = folded.visible
        if not text and not parsed.html and not attachments:
            text = parsed.subject or "(empty message)"
        metadata: dict[str, Any] = {
            "email": {
                "message_id": parsed.message_id,
                "from": [sender_name, sender_address],
                "to": parsed.to, "cc": parsed.cc, "reply_to": parsed.reply_to,
                "envelope_from": envelope_from or "", "envelope_to": recipients,
                "subject": parsed.subject,
                "in_reply_to": parsed.in_reply_to, "references": parsed.references[-50:],
                "folded": folded.folded[:MAX_TEXT], "fold_rule": folded.rule,
                "full_text": text_source[:MAX_TEXT] if folded.folded else "",
                "inline_images": inline, "skipped_attachments": skipped,
                "auto_reply": auto, "loop_suspected": loop,
                "bounce": {"recipients": list(bounce.recipients), "permanent": bounce.permanent,
                           "reason": bounce.reason, "original_message_ids": list(bounce.original_message_ids)}
                if bounce is not None else None,
                "defects": parsed.defects[:20], "malformed": parsed.malformed,
                "threading": hints.detail,
                "transport": request.headers.get("x-threadline-transport", ""),
            },
            "suppress_auto_response": bool(auto or loop),
        }
        if parsed.malformed or not parsed.from_address:
            metadata["needs_attention"] = "malformed email: stored raw, check the original"
        return InboundMessage(
            provider_message_id=provider_id[:255], sender_kind="email", sender_address=sender_address,
            sender_name=sender_name, sender_verified=False, subject=parsed.subject,
            text=text[:MAX_TEXT], html=display.sanitize_html(parsed.html)[:500_000], sent_at=parsed.date,
            references=thread_signals.ordered_references(parsed.in_reply_to, parsed.references),
            conversation_hint=hints.conversation_hint, attachments=tuple(attachments), metadata=metadata,
        )

    def _sender(self, parsed: parsing.ParsedEmail, envelope_from: str | None, raw: bytes,
                config: EmailChannelConfig) -> tuple[str, str]:
        from threadline.contacts.identities import normalize_email

        # The From name stays with whichever address is used (an unusable From address falls back to the
        # envelope sender, but the person's name is still theirs).
        for address in (parsed.from_address, (envelope_from or "").strip("<>")):
            if address:
                try:
                    return normalize_email(address), parsed.from_name
                except ValidationFailed:
                    continue
        digest = hashlib.sha256(raw).hexdigest()[:10]
        for domain in (config.address.partition("@")[2], "example.com"):
            try:
                return normalize_email(f"unknown-sender+{digest}@{domain}"), "Unknown sender"
            except ValidationFailed:
                continue
        return f"unknown-sender+{digest}@example.com", "Unknown sender"

    def _attachments(
        self, parsed: parsing.ParsedEmail
    ) -> tuple[list[InboundAttachment], list[dict[str, str]], dict[str, str]]:
        from threadline.conversations.attachments import check_attachment

        kept: list[InboundAttachment] = []
        skipped: list[dict[str, str]] = []
        inline: dict[str, str] = {}
        for item in parsed.attachments:
            if len(kept) >= MAX_ATTACHMENTS:
                skipped.append({"filename": item.filename, "reason": "too many attachments"})
                continue
            try:
                name, ctype = check_attachment(item.filename, item.content_type, len(item.content))
            except ValidationFailed as exc:
                skipped.append({"filename": item.filename[:200], "reason": exc.code})
                continue
            kept.append(InboundAttachment(name, ctype, item.content))
            if item.content_id:
                inline[item.content_id] = hashlib.sha256(item.content).hexdigest()
        return kept, skipped, inline

    def _thread_hints(self, channel: Channel, parsed: parsing.ParsedEmail, recipients: list[str],
                      sender: str) -> thread_signals.ThreadHints:
        """The authenticated conversation this mail names, and which header said so."""

        workspace_id = channel.workspace_id
        for address in [*recipients, *(a for _n, a in parsed.to), *(a for _n, a in parsed.cc)]:
            token = thread_signals.token_of_address(address)
            conversation_id = thread_signals.verify_token(workspace_id, token) if token else None
            if conversation_id is not None:
                return thread_signals.ThreadHints(conversation_id, {"signal": "reply_address", "token": token})
        for header, ids in (("In-Reply-To", parsed.in_reply_to), ("References", list(reversed(parsed.references)))):
            for mid in ids:
                token = thread_signals.token_of_message_id(mid)
                conversation_id = thread_signals.verify_token(workspace_id, token) if token else None
                if conversation_id is not None:
                    return thread_signals.ThreadHints(
                        conversation_id, {"signal": "message_id_token", "header": header, "token": token})
        for header, ids in (("In-Reply-To", parsed.in_reply_to), ("References", list(reversed(parsed.references)))):
            if len(ids) == 1:  # the usual reply: the same query, prepared
                matched = _REFERENCED.first(workspace_id, ids[0])
            else:
                matched = _referenced(workspace_id, ids).first() if ids else None
            if matched is not None:
                return thread_signals.ThreadHints(None, {"signal": "references", "header": header,
                                                         "matched": matched})
        reference = thread_signals.subject_reference(parsed.subject)
        if reference is not None and self._takes_part(workspace_id, reference, sender):
            return thread_signals.ThreadHints(reference, {"signal": "subject_reference", "reference": f"#{reference}"})
        return thread_signals.ThreadHints()

    def _takes_part(self, workspace_id: int, conversation_id: int, sender: str) -> bool:
        from threadline.channels.email.models import EmailParticipant
        from threadline.contacts.models import ContactIdentity
        from threadline.conversations.models import Conversation

        conversation = Conversation.objects.filter(pk=conversation_id, workspace_id=workspace_id).first()
        if conversation is None:
            return False
        if ContactIdentity.objects.filter(contact_id=conversation.contact_id, kind="email", address=sender).exists():
            return True
        return EmailParticipant.objects.filter(conversation=conversation, address=sender, active=True).exists()

    def _loop_suspected(self, channel: Channel, config: EmailChannelConfig, sender: str) -> bool:
        """True when this sender wrote more than the channel's hourly limit: never answer them automatically.

        Read as "was their limit-th latest inbound message on this channel written within the hour" (one
        query that stops at that row) rather than a COUNT of the hour's."""
        import datetime as dt

        from threadline.core.time import now

        found = _nth_latest(config.sender_rate_limit_per_hour).first(channel.workspace_id, sender, channel.pk)
        return found is not None and found >= now() - dt.timedelta(hours=1)

    def config_saved(self, channel: Channel, config: dict[str, Any]) -> None:
        """Claim the channel's addresses and domains (409 when another workspace owns one) and refuse a
        relay or IMAP host on a private network (400), as webhooks are."""
        from threadline.channels.email.claims import do_sync_claims
        from threadline.channels.email.sending import parse_relay
        from threadline.core.destinations import refuse_private

        do_sync_claims(channel, config)
        if config.get("relay_url"):
            try:
                relay = parse_relay(config["relay_url"])
            except PermanentSendError as exc:
                raise ValidationFailed(str(exc), code="invalid_config", field="config.relay_url") from exc
            refuse_private(relay.host, relay.port, field="config.relay_url")
        if config.get("imap"):
            refuse_private(config["imap"]["host"], config["imap"]["port"], field="config.imap.host")

    def send_test(self, actor: Any, channel: Channel, to: str) -> str:
        from threadline.channels.email.probe import do_send_test_email

        return do_send_test_email(actor, channel, to)

    def published_records(self, channel: Channel) -> list[Any]:
        from threadline.channels.email.records import published_records

        return published_records(channel)

    def new_signing_key(self, actor: Any, channel: Channel, selector: str) -> None:
        from threadline.channels.email.records import do_new_dkim_key

        do_new_dkim_key(actor, channel, selector)

    def send(self, message: OutboundMessage, channel: Channel) -> DeliveryResult:
        from threadline.channels.email.sending import send

        return send(message, channel)


def _referenced(workspace_id: int, ids: list[str]) -> Any:
    """The provider ids of the workspace's messages among `ids`, newest first (a reply's earlier message)."""
    from threadline.conversations.models import Message

    return (Message.objects.filter(workspace_id=workspace_id, provider_message_id__in=ids)
            .order_by("-created_at").values_list("provider_message_id", flat=True))


_REFERENCED = Prepared(lambda workspace_id, message_id: _referenced(workspace_id, [message_id]))


def channel_id_unindexed() -> Any:
    """`channel_id + 0`, as a bigint: a filter on it keeps SQLite without statistics off the channel's index
    (which would walk the channel's whole history) and onto the sender's."""
    from django.db.models import BigIntegerField, ExpressionWrapper, F, Value

    return ExpressionWrapper(F("channel_id") + Value(0), output_field=BigIntegerField())


@functools.lru_cache(maxsize=64)
def _nth_latest(limit: int) -> Prepared[Any]:
    """When the sender's `limit`-th latest inbound message on a channel was created (none: fewer), for
    (workspace_id, address, channel_id); prepared once per limit and thread.

    It walks the sender's identity's messages newest first (their index) and stops there: the COUNT this
    replaces scanned the channel's every message on SQLite without statistics (O(the channel's history) per
    inbound email).
    """
    from django.db.models import Subquery

    from threadline.contacts.models import ContactIdentity
    from threadline.conversations.models import Direction, Message

    return Prepared(lambda workspace_id, address, channel_id: Message.objects.alias(
        on_channel=channel_id_unindexed(),
    ).filter(
        identity_id=Subquery(ContactIdentity.objects.filter(
            workspace_id=workspace_id, kind="email", address=address).values("id")[:1]),
        on_channel=channel_id, direction=Direction.INBOUND,
    ).order_by("-id").values_list("created_at", flat=True)[limit - 1:limit])


def relay_url_for(config: EmailChannelConfig) -> str:
    return config.relay_url or getattr(settings, "SMTP_RELAY_URL", "")
