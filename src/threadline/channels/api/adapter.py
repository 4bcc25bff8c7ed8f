"""The API channel: an external system posts customers' messages and receives agents' replies.

Inbound: POST /hooks/api/<channel_id>/ with a JSON body and `X-Threadline-Signature: sha256=<hex>`, the
HMAC-SHA256 of the raw body keyed with the channel's secret. `message_id` is the idempotency key.
Outbound: replies are POSTed as JSON to the channel's `webhook_url`, signed the same way; a 2xx answer is
success (its JSON `message_id`, if any, becomes the provider id), 429/5xx/timeouts are retried with
backoff, other 4xx are permanent failures. See docs/channels/api.md.
Social mentions (`type: "social_mention"`): any listening source (an X, YouTube, Reddit or review-site
poller) pushes a public post in one shape, idempotent on (source, external_id); agents' public answers are
POSTed to the webhook as `type: "social.reply"` for the poller to publish. See docs/social.md.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from typing import Any, ClassVar

import httpx
from django.utils.translation import gettext as _
from pydantic import BaseModel, Field, ValidationError

from threadline.channels import choices
from threadline.channels.base import (
    Capabilities,
    DeliveryResult,
    DeliveryStatusUpdate,
    InboundAttachment,
    InboundItem,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    PublicItemEvent,
    RateLimited,
    TransientSendError,
    VerificationError,
)
from threadline.channels.models import Channel
from threadline.core import crypto, http
from threadline.core.html import sanitize as sanitize_html

SIGNATURE_HEADER = "x-threadline-signature"
KINDS = ("email", "phone", "whatsapp", "telegram", "line", "messenger", "instagram", "wechat", "visitor", "external")


class ApiChannelConfig(BaseModel):
    secret: str = Field(min_length=16, default_factory=crypto.new_secret)
    webhook_url: str = Field(default="", max_length=2000, description="Where agents' replies are POSTed")


class Sender(BaseModel):
    kind: str = "external"
    address: str = Field(min_length=1, max_length=320)
    name: str = Field(default="", max_length=300)
    verified: bool = False


class ApiChannelAttachment(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=127)
    content_base64: str


class MessageIn(BaseModel):
    type: str = "message"
    message_id: str = Field(min_length=1, max_length=255)
    sender: Sender
    text: str = Field(default="", max_length=100_000)
    html: str = Field(default="", max_length=500_000)
    subject: str = Field(default="", max_length=500)
    sent_at: dt.datetime | None = None
    attachments: list[ApiChannelAttachment] = Field(default_factory=list, max_length=20)
    metadata: dict[str, Any] = Field(default_factory=dict)


class MentionAuthor(BaseModel):
    handle: str = Field(min_length=1, max_length=300)
    name: str = Field(default="", max_length=300)
    followers: int | None = Field(default=None, ge=0)


class MentionIn(BaseModel):
    """A public post from a listening source (docs/social.md, "The social mentions shape")."""

    type: str = "social_mention"
    action: str = Field(default="add", pattern=r"^(add|edited|remove)$")
    source: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    external_id: str = Field(min_length=1, max_length=255)
    parent_external_id: str = Field(default="", max_length=255)
    url: str = Field(default="", max_length=1000, pattern=r"^(https?://.*)?$")
    author: MentionAuthor
    text: str = Field(min_length=1, max_length=20_000)
    language: str | None = Field(default=None, max_length=16)
    created_at: dt.datetime


class StatusIn(BaseModel):
    type: str = "status"
    message_id: str = Field(min_length=1, max_length=255)
    status: str
    reason: str = ""


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + crypto.hmac_sha256_hex(secret, body)


class ApiAdapter:
    kind: ClassVar[str] = "api"
    identity_kind: ClassVar[str] = "external"
    capabilities: ClassVar[Capabilities] = Capabilities(text=True, media=True, max_choices=100)
    config_schema: ClassVar[type[BaseModel]] = ApiChannelConfig

    def verify(self, request: InboundRequest, channel: Channel) -> None:
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given:
            raise VerificationError("missing X-Threadline-Signature header")
        if not crypto.constant_time_equals(given, sign(channel.config["secret"], request.body)):
            raise VerificationError("X-Threadline-Signature does not match the body")

    def _document(self, request: InboundRequest) -> dict[str, Any]:
        if request.parsed is not None:  # the edge parsed it for its nesting check
            document = request.parsed
        else:
            try:
                document = json.loads(request.body)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise PayloadError(f"body is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise PayloadError("body must be a JSON object")
        return document

    def idempotency_key(self, request: InboundRequest, channel: Channel) -> str:
        document = self._document(request)
        if document.get("type") == "social_mention":
            mention = self._mention(document)
            key = f"social:{mention.source}:{mention.external_id}"
            if mention.action == "add":
                return key
            return f"{key}:{mention.action}:{hashlib.sha256(request.body).hexdigest()[:16]}"
        message_id = document.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise PayloadError("message_id (a non-empty string) is required")
        kind = document.get("type", "message")
        if kind not in ("message", "status"):
            raise PayloadError("type must be 'message', 'status' or 'social_mention'")
        self._validate(document)
        return f"{kind}:{message_id}" if kind == "status" else message_id

    def _validate(self, document: dict[str, Any]) -> MessageIn | StatusIn:
        try:
            if document.get("type", "message") == "status":
                return StatusIn.model_validate(document)
            parsed = MessageIn.model_validate(document)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise PayloadError(f"{where}: {first['msg']}") from exc
        if parsed.sender.kind not in KINDS:
            raise PayloadError(f"sender.kind must be one of {', '.join(KINDS)}")
        if not parsed.text and not parsed.html and not parsed.attachments:
            raise PayloadError("a message needs text, html or attachments")
        if parsed.sent_at is not None and parsed.sent_at.tzinfo is None:
            raise PayloadError("sent_at must carry a time zone")
        return parsed

    def _mention(self, document: dict[str, Any]) -> MentionIn:
        try:
            mention = MentionIn.model_validate(document)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise PayloadError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc
        if mention.created_at.tzinfo is None:
            raise PayloadError("created_at must carry a time zone")
        return mention

    def _public_item(self, document: dict[str, Any]) -> PublicItemEvent:
        mention = self._mention(document)
        handle = mention.author.handle.strip()
        return PublicItemEvent(
            source=mention.source, external_id=mention.external_id, action=mention.action, kind="reply" if mention.parent_external_id
            else "mention", parent_external_id=mention.parent_external_id, author_kind="external",
            author_address=f"{mention.source}:{handle.lower()}", author_handle=handle,
            author_name=mention.author.name, author_reach=mention.author.followers, text=mention.text,
            url=mention.url, language=mention.language or "", created_at=mention.created_at)

    def parse_inbound(self, request: InboundRequest, channel: Channel) -> list[InboundItem]:
        document = self._document(request)
        if document.get("type") == "social_mention":
            return [self._public_item(document)]
        parsed = self._validate(document)
        if isinstance(parsed, StatusIn):
            return [DeliveryStatusUpdate(parsed.message_id, parsed.status, parsed.reason)]
        attachments = []
        for item in parsed.attachments:
            try:
                content = base64.b64decode(item.content_base64, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise PayloadError(f"attachment {item.filename}: content_base64 is not base64") from exc
            attachments.append(InboundAttachment(item.filename, item.content_type, content))
        return [
            InboundMessage(
                provider_message_id=parsed.message_id, sender_kind=parsed.sender.kind,
                sender_address=parsed.sender.address, sender_name=parsed.sender.name,
                sender_verified=parsed.sender.verified, text=parsed.text, html=sanitize_html(parsed.html),
                subject=parsed.subject, sent_at=parsed.sent_at, attachments=tuple(attachments),
                metadata=parsed.metadata,
            )
        ]

    def config_saved(self, channel: Channel, config: dict[str, Any]) -> None:
        """A private webhook URL is refused when saved, not only when a reply is delivered."""
        if config.get("webhook_url"):
            http.refuse_private_url(config["webhook_url"], field="config.webhook_url")

    def cannot_deliver(self, channel: Channel) -> str:
        if channel.config.get("webhook_url"):
            return ""
        return _("This API channel has no webhook URL, so replies cannot be delivered.")

    def send(self, message: OutboundMessage, channel: Channel) -> DeliveryResult:
        config = channel.config
        url = config.get("webhook_url")
        if not url:
            raise PermanentSendError("the API channel has no webhook_url for replies")
        body = json.dumps({
            "type": "message.outbound",
            "message_id": message.message_id,
            "conversation_id": message.conversation_id,
            "recipient": {"kind": message.recipient_kind, "address": message.recipient_address},
            "text": message.text,
            "html": message.html,
            "subject": message.subject,
            "in_reply_to": message.in_reply_to,
            "attachments": message.metadata.get("attachments", []),
            # reply choices to show as buttons (a survey's scores): a pick comes back as metadata.choice
            "choices": [{"id": c["id"], "label": c["title"]} for c in choices.buttons(message)],
        }, ensure_ascii=False).encode()
        answer = self._post(config, body, f"message-{message.message_id}", message.idempotency_key)
        provider_id = answer["message_id"][:255] if isinstance(answer.get("message_id"), str) else ""
        return DeliveryResult(provider_message_id=provider_id or f"tl-out-{message.message_id}")

    def public_reply(self, channel: Channel, target_id: str, text: str, *, kind: str, source: str = "",
                     parent_id: str = "", root_id: str = "") -> str:
        """An agent's public answer to a social mention, for the listening source to publish: POSTed to the
        webhook as `social.reply`; its JSON `external_id`, if any, names the published reply."""
        config = channel.config
        if not config.get("webhook_url"):
            raise PermanentSendError("the API channel has no webhook_url for public replies")
        body = json.dumps({"type": "social.reply", "source": source, "in_reply_to": target_id, "text": text},
                          ensure_ascii=False).encode()
        delivery = "social-" + crypto.hmac_sha256_hex(config["secret"], body)[:16]
        answer = self._post(config, body, delivery)
        reply_id = answer.get("external_id")
        return str(reply_id)[:255] if isinstance(reply_id, str) and reply_id else delivery

    def _post(self, config: dict[str, Any], body: bytes, delivery: str, idempotency_key: str = "") -> dict[str, Any]:
        """POST a signed JSON body to the webhook; the JSON answer ({} when none). Errors as channel errors.
        `idempotency_key` (a reply's, the same on every attempt) goes in the `Idempotency-Key` header."""
        url = config["webhook_url"]
        headers = {
            "Content-Type": "application/json",
            "X-Threadline-Signature": sign(config["secret"], body),
            "X-Threadline-Delivery": delivery,
        }
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = http.post(url, content=body, headers=headers)
        except http.DestinationRefused as exc:
            raise PermanentSendError(str(exc)) from exc
        except httpx.TransportError as exc:
            raise TransientSendError(http.transport_failure(url, exc)) from exc
        if response.status_code == 429:
            retry_after = response.headers.get("retry-after", "")
            raise RateLimited("receiver answered 429", retry_after=float(retry_after) if retry_after.isdigit() else None)
        if response.status_code >= 500:
            raise TransientSendError(f"receiver answered {response.status_code}")
        if response.status_code >= 300:
            raise PermanentSendError(f"receiver answered {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            return {}
        return answer if isinstance(answer, dict) else {}
