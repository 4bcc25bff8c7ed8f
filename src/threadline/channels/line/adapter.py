"""LINE through the Messaging API.

Inbound: `POST /hooks/line/<channel_id>/`, `x-line-signature` = base64(HMAC-SHA256(channel secret, raw body)).
`{"destination", "events": [...]}` with `message` events (text, image, video, audio, file — content fetched
from `api-data.line.me/v2/bot/message/{id}/content` — location, sticker), `postback`, `unsend`, `follow`/
`unfollow` and others (acknowledged and recorded). The console's verification request has no events. Keyed by
the `webhookEventId`s, so LINE's redeliveries are stored once. Profile name and picture come from
`GET /v2/bot/profile/{userId}` on first contact.
Outbound: a reply token is used while it is fresh and unused (free); otherwise a push message (counts against
the plan's quota; `allow_push: false` refuses instead, `reply_token_expired`). Pushes carry an
`X-Line-Retry-Key` derived from the message, so a retried push is never delivered twice; a reply whose token
LINE refuses as invalid (used, or expired early) is pushed instead, so a reply sent again after a worker was
killed shows sent (the customer may see it twice; the reply API takes no retry key). Images, video and
audio go as signed links LINE fetches; other files as a link in text.
Groups and rooms: their messages are one conversation per `groupId`/`roomId` (the sender is still their own
`line` identity); a reply there uses the group's own reply token or is pushed to the group/room id.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import uuid
from typing import Any, ClassVar

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from pydantic import BaseModel, Field

from threadline.channels import choices, provider_http
from threadline.channels.base import (
    Capabilities,
    ChannelError,
    DeliveryResult,
    InboundAttachment,
    InboundItem,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    VerificationError,
)
from threadline.channels.meta.graph import payload_key
from threadline.channels.models import Channel
from threadline.channels.sms import media
from threadline.core import http
from threadline.core.errors import ValidationFailed
from threadline.core.time import now

SIGNATURE_HEADER = "x-line-signature"
MEDIA_TYPES = ("image", "video", "audio", "file")
RETRY_NAMESPACE = uuid.UUID("8b2a3c1e-4f5d-4e6a-9b7c-0d1e2f3a4b5c")
INVALID_REPLY_TOKEN = "invalid reply token"  # LINE's 400 for a used or expired token


class LineConfig(BaseModel):
    channel_secret: str = Field(min_length=8, max_length=200)
    channel_access_token: str = Field(min_length=8, max_length=1000)
    api_base_url: str = Field(default="https://api.line.me", max_length=500)
    data_api_base_url: str = Field(default="https://api-data.line.me", max_length=500)
    reply_token_seconds: int = Field(default=50, ge=0, le=1800, description="How long a reply token is used")
    allow_push: bool = Field(default=True, description="Push when the reply token is gone (uses quota)")


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _at(ms: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.UTC)
    except (TypeError, ValueError):
        return None


class LineAdapter:
    kind: ClassVar[str] = "line"
    identity_kind: ClassVar[str] = "line"
    capabilities: ClassVar[Capabilities] = Capabilities(text=True, media=True, max_length=5000, interactive=True,
                                                        max_choices=13)
    config_schema: ClassVar[type[BaseModel]] = LineConfig

    # ── inbound ──
    def verify(self, request: InboundRequest, channel: Channel) -> None:
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given:
            raise VerificationError("missing x-line-signature header")
        if not hmac.compare_digest(given.encode(), signature(channel.config["channel_secret"], request.body).encode()):
            raise VerificationError("x-line-signature does not match the body")

    def handshake(self, request: InboundRequest, channel: Channel) -> HttpResponse:
        return media.serve(request, channel) or JsonResponse({"code": "method_not_allowed", "message": "Use POST."},
                                                             status=405)

    def _events(self, request: InboundRequest) -> list[dict[str, Any]]:
        try:
            doc = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PayloadError(f"body is not JSON: {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("events", []), list):
            raise PayloadError("body must be an object with an events list")
        return [e for e in doc.get("events", []) if isinstance(e, dict)]

    @provider_http.tolerant
    def idempotency_key(self, request: InboundRequest, channel: Channel) -> str:
        return payload_key([str(e.get("webhookEventId", "")) for e in self._events(request)], request.body)

    @provider_http.tolerant
    def parse_inbound(self, request: InboundRequest, channel: Channel) -> list[InboundItem]:
        items: list[InboundItem] = []
        for event in self._events(request):
            source = event.get("source") or {}
            user = source.get("userId")
            if not user:
                continue
            message = self._event(channel, event)
            if message is not None:
                name, picture = self._profile(channel, user)
                extra = {"sender_picture": picture} if picture else {}
                items.append(dataclasses.replace(message, sender_address=user, sender_name=name,
                                                 metadata={**message.metadata, **extra},
                                                 thread_key=message.metadata.get("group_id", "")))
        return items

    def _event(self, channel: Channel, event: dict[str, Any]) -> InboundMessage | None:
        kind = event.get("type")
        source = event.get("source") or {}
        metadata: dict[str, Any] = {"source_type": source.get("type", ""), "event": kind}
        if source.get("groupId") or source.get("roomId"):
            metadata["group_id"] = source.get("groupId") or source.get("roomId")
        if event.get("replyToken"):
            metadata["reply_token"] = event["replyToken"]
        attachments: list[InboundAttachment] = []
        references: tuple[str, ...] = ()
        if kind == "message":
            message = event.get("message") or {}
            mtype, mid = message.get("type"), str(message.get("id", ""))
            text = message.get("text", "")
            if mtype in MEDIA_TYPES:
                fetched = self._content(channel, mid, message.get("fileName") or f"{mtype}-{mid}")
                if fetched is not None:
                    attachments.append(fetched)
            elif mtype == "location":
                text = _("Location: %(title)s, %(address)s (%(lat)s, %(lon)s)") % {
                    "title": message.get("title", ""), "address": message.get("address", ""),
                    "lat": message.get("latitude"), "lon": message.get("longitude")}
                metadata["location"] = message
            elif mtype == "sticker":
                keywords = ", ".join((message.get("keywords") or [])[:3])
                text = _("(sticker %(keywords)s)") % {"keywords": keywords} if keywords else _("(sticker)")
                metadata["sticker"] = {"package_id": message.get("packageId"), "sticker_id": message.get("stickerId")}
            elif mtype != "text":
                text = _("(unsupported LINE message: %(type)s)") % {"type": mtype}
            if message.get("quotedMessageId"):
                references = (str(message["quotedMessageId"]),)
        elif kind == "postback":
            postback = event.get("postback") or {}
            mid, text = f"postback:{event.get('webhookEventId')}", _("Pressed: %(data)s") % {"data": postback.get("data", "")}
            metadata["postback"] = postback
            metadata = choices.picked(metadata, postback.get("data"))
        elif kind == "unsend":
            original = str((event.get("unsend") or {}).get("messageId", ""))
            mid, text, references = f"{original}:unsent", _("(message unsent)"), (original,)
            metadata["unsent"] = original
        elif kind == "follow":
            mid, text = f"follow:{event.get('webhookEventId')}", _("(added the account as a friend)")
        else:
            return None  # unfollow, join, leave, beacon, accountLink...: acknowledged and recorded
        return InboundMessage(
            provider_message_id=mid, sender_kind="line", sender_address="", sender_verified=True, text=text,
            sent_at=_at(event.get("timestamp")), attachments=tuple(attachments), metadata=metadata,
            references=references,
        )

    def _auth(self, channel: Channel) -> dict[str, str]:
        return {"Authorization": f"Bearer {channel.config['channel_access_token']}"}

    def check_connection(self, channel: Channel) -> str:
        """GET /v2/bot/info: the bot's display name and basic id."""
        url = f"{channel.config['api_base_url'].rstrip('/')}/v2/bot/info"
        bot = provider_http.json_of(provider_http.call("LINE", lambda: http.get(url, headers=self._auth(channel))))
        if not bot.get("displayName"):
            raise PermanentSendError("the bot has no displayName")
        return f"{bot['displayName']} {bot.get('basicId', '')}".strip()

    def _content(self, channel: Channel, message_id: str, filename: str) -> InboundAttachment | None:
        url = f"{channel.config['data_api_base_url'].rstrip('/')}/v2/bot/message/{message_id}/content"
        response = provider_http.download(url, headers=self._auth(channel))
        if response.status_code >= 500:
            raise provider_http.TransientSendError(f"LINE content answered {response.status_code}")
        if response.status_code != 200:
            return None
        ctype = response.headers.get("content-type", "application/octet-stream").split(";")[0]
        if "." not in filename:
            import mimetypes

            filename += mimetypes.guess_extension(ctype) or ""
        return InboundAttachment(filename, ctype, response.body)

    def _profile(self, channel: Channel, user: str) -> tuple[str, str]:
        from threadline.contacts.models import ContactIdentity

        if ContactIdentity.objects.filter(workspace_id=channel.workspace_id, kind="line", address=user).exists():
            return "", ""
        url = f"{channel.config['api_base_url'].rstrip('/')}/v2/bot/profile/{user}"
        try:
            profile = provider_http.json_of(provider_http.call("LINE", lambda: http.get(url, headers=self._auth(channel))))
        except ChannelError:  # the profile is a nicety: never hold the message back for it
            return "", ""
        return profile.get("displayName", ""), profile.get("pictureUrl", "")

    # ── reply token or push ──
    def _reply_token(self, channel: Channel, address: str, group: str = "") -> tuple[str, dt.datetime | None]:
        """A reply token of the latest message in the customer's own chat (or in the group/room `group`), if no
        reply used it yet and it is still fresh. A token answers where its message was written."""
        from threadline.conversations.models import Message

        inbound = Message.objects.filter(channel=channel, direction="in")
        replies = Message.objects.filter(channel=channel, direction="out").exclude(status="queued")
        if group:
            inbound = inbound.filter(metadata__group_id=group)
            replies = replies.filter(conversation__thread_key=group)
        else:
            inbound = inbound.filter(identity__kind="line", identity__address=address).exclude(
                metadata__has_key="group_id")
            replies = replies.filter(identity__address=address, conversation__thread_key="")
        last = inbound.order_by("-created_at", "-id").first()
        if last is None or not last.metadata.get("reply_token"):
            return "", None
        expires = last.created_at + dt.timedelta(seconds=channel.config.get("reply_token_seconds", 50))
        if replies.filter(created_at__gt=last.created_at).exists() or now() >= expires:
            return "", None
        return last.metadata["reply_token"], expires

    def _group(self, conversation: Any, channel: Channel) -> str:
        return conversation.thread_key if conversation.origin_channel_id == channel.pk else ""

    def check_send(self, conversation: Any, identity: Any, channel: Channel, *, template: dict | None = None) -> None:
        if template is not None and template["name"] != "interactive":
            raise ValidationFailed(_("LINE has no templates here; write the message (buttons are allowed)."),
                                   code="templates_unsupported", field="template")
        token, _expires = self._reply_token(channel, identity.address, self._group(conversation, channel))
        if not token and not channel.config.get("allow_push", True):
            raise ValidationFailed(_("The customer's LINE reply token has expired and push messages are turned off "
                                     "for this channel."), code="reply_token_expired", field="channel_id")

    def send_hints(self, conversation: Any, identity: Any, channel: Channel, *, text: str = "") -> dict[str, Any]:
        token, expires = self._reply_token(channel, identity.address, self._group(conversation, channel))
        return {"mode": "reply" if token else "push", "reply_token_expires_at": expires.isoformat() if expires else None}

    def send(self, message: OutboundMessage, channel: Channel) -> DeliveryResult:
        messages: list[dict[str, Any]] = []
        if message.text:
            messages.append({"type": "text", "text": message.text[:5000]})
            offered = choices.buttons(message)
            if offered:  # quick reply: postback actions (label <= 20 characters, at most 13 items)
                messages[0]["quickReply"] = {"items": [
                    {"type": "action", "action": {"type": "postback", "label": b["title"][:20], "data": b["id"],
                                                  "displayText": b["title"][:300]}}
                    for b in offered[:self.capabilities.max_choices]]}
        for item in message.metadata.get("attachments", [])[:4]:
            link = media.media_link(channel, item["id"])
            kind = item["content_type"].split("/")[0]
            if kind == "image":
                messages.append({"type": "image", "originalContentUrl": link, "previewImageUrl": link})
            elif kind == "video":
                messages.append({"type": "video", "originalContentUrl": link, "previewImageUrl": link})
            elif kind == "audio":
                messages.append({"type": "audio", "originalContentUrl": link, "duration": 60000})
            else:
                messages.append({"type": "text", "text": f"{item['filename']}: {link}"})
        token, _expires = self._reply_token(channel, message.recipient_address, message.thread_key)
        if token:
            try:
                return self._result(self._post(channel, "reply", {"replyToken": token, "messages": messages[:5]}))
            except PermanentSendError as exc:
                # LINE refuses a token already used (by this very reply, sent before its worker was killed, or
                # by another) or expired at LINE before our clock said so: pushed, it is not a failure.
                if INVALID_REPLY_TOKEN not in str(exc).lower():
                    raise
        return self._push(channel, message, messages)

    def _push(self, channel: Channel, message: OutboundMessage, messages: list[dict[str, Any]]) -> DeliveryResult:
        if not channel.config.get("allow_push", True):
            raise PermanentSendError("the reply token expired and push messages are off")
        to = message.thread_key or message.recipient_address  # a group's or room's conversation: into it
        key = str(uuid.uuid5(RETRY_NAMESPACE, f"{channel.pk}:{message.message_id}"))
        try:
            response = self._post(channel, "push", {"to": to, "messages": messages[:5]}, {"X-Line-Retry-Key": key})
        except PermanentSendError as exc:
            if "409" not in str(exc) or "retry key" not in str(exc).lower():
                raise
            return DeliveryResult(provider_message_id=f"line-retry-{key}")  # already sent
        return self._result(response)

    def _post(self, channel: Channel, endpoint: str, body: dict[str, Any], extra: dict[str, str] | None = None,
              ) -> Any:
        url = f"{channel.config['api_base_url'].rstrip('/')}/v2/bot/message/{endpoint}"
        headers = {**self._auth(channel), "Content-Type": "application/json", **(extra or {})}
        raw = json.dumps(body, ensure_ascii=False).encode()
        try:
            return provider_http.call("LINE", lambda: http.post(url, content=raw, headers=headers))
        except provider_http.RateLimited as exc:
            if "monthly limit" in str(exc):
                raise PermanentSendError(str(exc)) from exc
            raise

    @staticmethod
    def _result(response: Any) -> DeliveryResult:
        sent = provider_http.json_of(response).get("sentMessages") or []
        first = str(sent[0].get("id")) if sent and sent[0].get("id") else f"line-{uuid.uuid4().hex}"
        return DeliveryResult(provider_message_id=first)
