"""WeChat Official Accounts (公众号) through the Official Account platform's server configuration.

Inbound: `GET /hooks/wechat/<channel_id>/` answers the server check (`echostr`) after checking
`signature`/`timestamp`/`nonce`; `POST` carries the XML message, in plain, compatible or safe mode (then
`encrypt_type=aes` and `msg_signature`, AES-256-CBC with the EncodingAESKey, see `crypto.py`). A timestamp
more than 5 minutes away is refused (replay). WeChat needs the literal answer `success` within 5 seconds
(anything else shows the user an error), so the webhook is answered by `handle_sync` after storing the event.
Messages: text, image, voice (with WeChat's speech recognition), video, shortvideo, location, link; events:
subscribe, CLICK/VIEW menu items, template-send results; media is fetched with `media/get`.
Rules: customer-service messages only within 48 hours of the customer's last interaction; otherwise a
template message (`template` = {"name": template_id, "data": {...}}).
Outbound: `message/custom/send` (text, image after `media/upload`), `message/template/send`, with an access
token from `cgi-bin/token` cached per channel.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any, ClassVar
from urllib.parse import quote

from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from pydantic import BaseModel, Field, model_validator

from threadline.channels import choices, provider_http
from threadline.channels.base import (
    Capabilities,
    ChannelError,
    DeliveryResult,
    DeliveryStatusUpdate,
    InboundAttachment,
    InboundItem,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    RateLimited,
    TransientSendError,
    VerificationError,
)
from threadline.channels.meta.window import last_customer_message_at
from threadline.channels.models import Channel
from threadline.channels.sms import media
from threadline.channels.sync_edge import accept_sync
from threadline.channels.wechat import crypto
from threadline.core import crypto as core_crypto
from threadline.core import http
from threadline.core.errors import ValidationFailed
from threadline.core.time import now

WINDOW = dt.timedelta(hours=48)
MAX_SKEW = 300
TOKEN_ERRORS = (40001, 40014, 42001)
RATE_ERRORS = (45009, 45011)
TRANSIENT_ERRORS = (-1,)
MEDIA_TYPES = {"image": "image/jpeg", "voice": "audio/amr", "video": "video/mp4", "shortvideo": "video/mp4"}


class WeChatConfig(BaseModel):
    app_id: str = Field(min_length=4, max_length=64)
    app_secret: str = Field(min_length=8, max_length=128)
    token: str = Field(min_length=3, max_length=32, description="The server configuration's Token")
    encoding_aes_key: str = Field(default="", max_length=43, description="43 characters; needed for safe mode")
    mode: str = Field(default="plain", pattern="^(plain|compatible|safe)$")
    api_base_url: str = Field(default="https://api.weixin.qq.com", max_length=500)

    @model_validator(mode="after")
    def _key(self) -> WeChatConfig:
        if self.mode != "plain" and len(self.encoding_aes_key) != 43:
            raise ValueError("compatible and safe modes need the 43-character encoding_aes_key")
        return self


def _text(element: ET.Element, name: str) -> str:
    found = element.find(name)
    return (found.text or "") if found is not None else ""


def parse_xml(body: bytes) -> ET.Element:
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise PayloadError("XML with a DOCTYPE is not accepted")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise PayloadError(f"body is not XML: {exc}") from exc


class WeChatAdapter:
    kind: ClassVar[str] = "wechat"
    identity_kind: ClassVar[str] = "wechat"
    capabilities: ClassVar[Capabilities] = Capabilities(text=True, media=True, templates=True, max_length=2048,
                                                        reply_window_hours=48, interactive=True, max_choices=10)
    config_schema: ClassVar[type[BaseModel]] = WeChatConfig

    # ── verification ──
    def _check_time(self, query: dict[str, str]) -> None:
        stamp = query.get("timestamp", "")
        if not stamp.isdigit() or abs(now().timestamp() - int(stamp)) > MAX_SKEW:
            raise VerificationError("timestamp missing or stale")

    def _check_signature(self, query: dict[str, str], token: str) -> None:
        given = query.get("signature", "")
        if not given:
            raise VerificationError("missing signature")
        expected = crypto.sha1_signature(token, query.get("timestamp", ""), query.get("nonce", ""))
        if not core_crypto.constant_time_equals(given, expected):
            raise VerificationError("signature does not match")

    def verify(self, request: InboundRequest, channel: Channel) -> None:
        config, query = channel.config, request.query
        self._check_time(query)
        if query.get("msg_signature"):
            encrypted = _text(parse_xml(request.body), "Encrypt")
            expected = crypto.sha1_signature(config["token"], query.get("timestamp", ""), query.get("nonce", ""),
                                             encrypted)
            if not encrypted or not core_crypto.constant_time_equals(query["msg_signature"], expected):
                raise VerificationError("msg_signature does not match")
            crypto.decrypt(config["encoding_aes_key"], config["app_id"], encrypted)
            return
        if config.get("mode") == "safe":
            raise VerificationError("safe mode: the message must be encrypted")
        self._check_signature(query, config["token"])

    def handshake(self, request: InboundRequest, channel: Channel) -> HttpResponse:
        served = media.serve(request, channel)
        if served is not None:
            return served
        try:
            self._check_time(request.query)
            self._check_signature(request.query, channel.config["token"])
        except VerificationError as exc:
            return JsonResponse({"code": "invalid_signature", "message": str(exc)}, status=403)
        return HttpResponse(request.query.get("echostr", ""), content_type="text/plain")

    def handle_sync(self, request: InboundRequest, channel: Channel) -> HttpResponse:
        """Store the message, then answer `success` as WeChat requires (no passive reply)."""
        return accept_sync(self, request, channel) or HttpResponse("success", content_type="text/plain")

    # ── parsing ──
    def _message(self, request: InboundRequest, channel: Channel) -> ET.Element:
        root = parse_xml(request.body)
        encrypted = _text(root, "Encrypt")
        if encrypted:
            config = channel.config
            root = parse_xml(crypto.decrypt(config["encoding_aes_key"], config["app_id"], encrypted))
        return root

    @provider_http.tolerant
    def idempotency_key(self, request: InboundRequest, channel: Channel) -> str:
        root = self._message(request, channel)
        if _text(root, "MsgId"):
            return _text(root, "MsgId")
        parts = [_text(root, n) for n in ("FromUserName", "CreateTime", "Event", "EventKey", "MsgID")]
        if not parts[0]:
            raise PayloadError("FromUserName is required")
        return "event:" + ":".join(parts)

    @provider_http.tolerant
    def parse_inbound(self, request: InboundRequest, channel: Channel) -> list[InboundItem]:
        root = self._message(request, channel)
        kind, sender = _text(root, "MsgType"), _text(root, "FromUserName")
        sent_at = dt.datetime.fromtimestamp(int(_text(root, "CreateTime") or 0), tz=dt.UTC)
        metadata: dict[str, Any] = {"type": kind}
        attachments: list[InboundAttachment] = []
        text = ""
        if kind == "text":
            text = _text(root, "Content")
            metadata = choices.picked(metadata, _text(root, "bizmsgmenuid"))
        elif kind in MEDIA_TYPES:
            fetched = self._media(channel, _text(root, "MediaId"), kind, _text(root, "Format"))
            attachments += [fetched] if fetched else []
            text = _text(root, "Recognition")
        elif kind == "location":
            text = _("Location: %(label)s (%(x)s, %(y)s)") % {"label": _text(root, "Label"),
                                                             "x": _text(root, "Location_X"), "y": _text(root, "Location_Y")}
        elif kind == "link":
            text = f"{_text(root, 'Title')} — {_text(root, 'Url')}"
            metadata["description"] = _text(root, "Description")
        elif kind == "event":
            return self._event(root, sender, sent_at)
        else:
            text = _("(unsupported WeChat message: %(type)s)") % {"type": kind}
        name, picture = self._profile(channel, sender)
        if picture:
            metadata["sender_picture"] = picture
        return [InboundMessage(
            provider_message_id=_text(root, "MsgId") or f"{sender}:{_text(root, 'CreateTime')}", sender_kind="wechat",
            sender_address=sender, sender_name=name, sender_verified=True, text=text, sent_at=sent_at,
            attachments=tuple(attachments), metadata=metadata,
        )]

    def _event(self, root: ET.Element, sender: str, sent_at: dt.datetime) -> list[InboundItem]:
        event = _text(root, "Event")
        if event == "TEMPLATESENDJOBFINISH":
            status = _text(root, "Status")
            return [DeliveryStatusUpdate(f"template:{_text(root, 'MsgID')}", "delivered" if status == "success"
                                         else "failed", "" if status == "success" else status, sent_at)]
        texts = {"subscribe": _("(followed the account)"), "CLICK": _("Menu: %(key)s") % {"key": _text(root, "EventKey")}}
        if event not in texts:
            return []  # unsubscribe, VIEW, SCAN, LOCATION reports...: acknowledged and recorded
        return [InboundMessage(
            provider_message_id=f"event:{sender}:{_text(root, 'CreateTime')}:{event}", sender_kind="wechat",
            sender_address=sender, sender_verified=True, text=texts[event], sent_at=sent_at,
            metadata={"type": "event", "event": event, "event_key": _text(root, "EventKey")},
        )]

    # ── the API ──
    def _base(self, channel: Channel) -> str:
        return channel.config["api_base_url"].rstrip("/")

    def access_token(self, channel: Channel, *, fresh: bool = False) -> str:
        key = f"threadline:wechat-token:{channel.pk}"
        token = None if fresh else cache.get(key)
        if token:
            return token
        config = channel.config
        url = (f"{self._base(channel)}/cgi-bin/token?grant_type=client_credential&appid={quote(config['app_id'])}"
               f"&secret={quote(config['app_secret'])}")
        answer = self._checked(provider_http.json_of(provider_http.call("WeChat", lambda: http.get(url))))
        token = answer.get("access_token", "")
        if not token:
            raise PermanentSendError(f"WeChat gave no access token: {answer}")
        cache.set(key, token, max(60, int(answer.get("expires_in", 7200)) - 300))
        return token

    def check_connection(self, channel: Channel) -> str:
        """A fresh access token from the app id and secret (the cheapest call that proves both)."""
        self.access_token(channel, fresh=True)
        return _("the app id and secret were accepted")

    def _checked(self, answer: dict[str, Any]) -> dict[str, Any]:
        code = answer.get("errcode", 0)
        if not code:
            return answer
        reason = f"WeChat error {code}: {answer.get('errmsg', '')}"
        if code in RATE_ERRORS:
            raise RateLimited(reason)
        if code in TRANSIENT_ERRORS or code in TOKEN_ERRORS:
            raise TransientSendError(reason)
        raise PermanentSendError(reason)

    def _api(self, channel: Channel, request: Any) -> dict[str, Any]:
        """Call with the access token; a rejected token is refreshed once."""
        answer: dict[str, Any] = {}
        for fresh in (False, True):
            token = self.access_token(channel, fresh=fresh)
            answer = provider_http.json_of(provider_http.call("WeChat", lambda token=token: request(token)))
            if answer.get("errcode") not in TOKEN_ERRORS:
                break
        return self._checked(answer)

    def _media(self, channel: Channel, media_id: str, kind: str, fmt: str) -> InboundAttachment | None:
        if not media_id:
            return None
        url = f"{self._base(channel)}/cgi-bin/media/get?media_id={quote(media_id)}&access_token="
        response = provider_http.call("WeChat", lambda: http.get(url + quote(self.access_token(channel))))
        ctype = response.headers.get("content-type", "").split(";")[0]
        if ctype in ("application/json", "text/plain"):
            return None  # an error document, e.g. an expired media id
        extension = fmt or {"image": "jpg", "voice": "amr"}.get(kind, "mp4")
        return InboundAttachment(f"{kind}-{media_id[:16]}.{extension}", ctype or MEDIA_TYPES[kind], response.body)

    def _profile(self, channel: Channel, openid: str) -> tuple[str, str]:
        from threadline.contacts.models import ContactIdentity

        if ContactIdentity.objects.filter(workspace_id=channel.workspace_id, kind="wechat", address=openid).exists():
            return "", ""
        base = f"{self._base(channel)}/cgi-bin/user/info?openid={quote(openid)}&lang=zh_CN&access_token="
        try:
            info = self._api(channel, lambda token: http.get(base + quote(token)))
        except ChannelError:  # the profile is a nicety: never hold the message back for it
            return "", ""
        return info.get("nickname", ""), info.get("headimgurl", "")

    # ── rules and sending ──
    def check_send(self, conversation: Any, identity: Any, channel: Channel, *, template: dict | None = None) -> None:
        if template is not None and template["name"] != "interactive":
            return  # template messages are not bound to the window
        last = last_customer_message_at(channel, identity.address, "wechat")
        if last is None or now() - last > WINDOW:
            raise ValidationFailed(_("WeChat allows customer-service messages only within 48 hours of the "
                                     "customer's last message; send a template message instead."),
                                   code="outside_reply_window", field="template")

    def send_hints(self, conversation: Any, identity: Any, channel: Channel, *, text: str = "") -> dict[str, Any]:
        last = last_customer_message_at(channel, identity.address, "wechat")
        ends = last + WINDOW if last else None
        return {"window_ends_at": ends.isoformat() if ends else None, "window_open": bool(ends and ends > now())}

    def _post_json(self, channel: Channel, path: str, body: dict[str, Any]) -> dict[str, Any]:
        import json

        raw = json.dumps(body, ensure_ascii=False).encode()
        url = f"{self._base(channel)}{path}?access_token="
        return self._api(channel, lambda token: http.post(url + quote(token), content=raw,
                                                          headers={"Content-Type": "application/json"}))

    def send(self, message: OutboundMessage, channel: Channel) -> DeliveryResult:
        from threadline.conversations.models import Attachment

        to = message.recipient_address
        offered = choices.buttons(message)[:self.capabilities.max_choices]
        if offered:  # a menu message (msgmenu); a pick comes back as text with its bizmsgmenuid
            self._post_json(channel, "/cgi-bin/message/custom/send", {"touser": to, "msgtype": "msgmenu", "msgmenu": {
                "head_content": message.text, "tail_content": "",
                "list": [{"id": b["id"], "content": b["title"]} for b in offered]}})
            return DeliveryResult(provider_message_id=f"wechat-out-{message.message_id}")
        if message.template:
            variables = message.template.get("variables", [])
            data = message.template.get("data") or {f"keyword{i + 1}": {"value": v} for i, v in enumerate(variables)}
            answer = self._post_json(channel, "/cgi-bin/message/template/send",
                                     {"touser": to, "template_id": message.template["name"], "data": data})
            return DeliveryResult(provider_message_id=f"template:{answer.get('msgid')}")
        if message.text:
            self._post_json(channel, "/cgi-bin/message/custom/send",
                            {"touser": to, "msgtype": "text", "text": {"content": message.text}})
        for item in message.metadata.get("attachments", []):
            if not item["content_type"].startswith("image/"):
                link = media.media_link(channel, item["id"])
                self._post_json(channel, "/cgi-bin/message/custom/send",
                                {"touser": to, "msgtype": "text", "text": {"content": f"{item['filename']}: {link}"}})
                continue
            attachment = Attachment.objects.get(pk=item["id"])
            with attachment.file.open("rb") as handle:
                content = handle.read()
            url = f"{self._base(channel)}/cgi-bin/media/upload?type=image&access_token="
            files = {"media": (item["filename"], content, item["content_type"])}
            uploaded = self._api(channel, lambda token, url=url, files=files: http.post_form(
                url + quote(token), data={}, files=files))
            self._post_json(channel, "/cgi-bin/message/custom/send",
                            {"touser": to, "msgtype": "image", "image": {"media_id": uploaded.get("media_id", "")}})
        return DeliveryResult(provider_message_id=f"wechat-out-{message.message_id}")
