"""SMS and MMS through Twilio's Programmable Messaging (or any Twilio-compatible gateway).

Inbound: Twilio POSTs `application/x-www-form-urlencoded` to `/hooks/sms/<channel_id>/`, signed with
`X-Twilio-Signature` (see `twilio.py`). A message carries `MessageSid`, `From`, `To`, `Body`, `NumMedia` and
`MediaUrl{N}`/`MediaContentType{N}` (downloaded with the account's credentials and stored as attachments);
a status callback carries `MessageStatus` (`sent/delivered/undelivered/failed/read`) and `ErrorCode`.
STOP/START/HELP and their local equivalents (and Twilio's `OptOutType` when Advanced Opt-Out is on) are
recorded in the consent ledger; an opted-out number cannot be sent to (`no_consent`).
Outbound: `POST {api_base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json` with `To`, `From` or
`MessagingServiceSid`, `Body`, `StatusCallback` and `MediaUrl` (signed links to the attachments).
WhatsApp through Twilio: a `From=whatsapp:+…` sender is a `whatsapp` identity, and replies to it go out with
`whatsapp:` addressing on both `To` and `From` (the address the customer wrote to).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from typing import Any, ClassVar

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from pydantic import BaseModel, Field, model_validator

from threadline.channels import choices, provider_http
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
)
from threadline.channels.meta.window import check_window
from threadline.channels.models import Channel
from threadline.channels.sms import media, twilio
from threadline.channels.sms.segments import segment
from threadline.core import http
from threadline.core.errors import ValidationFailed

MAX_BODY = 1600  # Twilio's limit for one API call; longer replies go out as several messages
STATUS_MAP = {"sent": "sent", "delivered": "delivered", "read": "read", "undelivered": "failed",
              "failed": "failed", "canceled": "failed"}
WHATSAPP_WINDOW = dt.timedelta(hours=24)
WHATSAPP_PREFIX = "whatsapp:"  # Twilio's address form for WhatsApp senders and recipients


def e164(address: str) -> str:
    """A WhatsApp id as Twilio addresses it: the international number with its "+"."""
    return address if address.startswith("+") else "+" + address


class TwilioSmsConfig(BaseModel):
    account_sid: str = Field(min_length=2, max_length=64)
    auth_token: str = Field(min_length=8, max_length=128)
    from_number: str = Field(default="", max_length=32, description="The sending number, E.164")
    messaging_service_sid: str = Field(default="", max_length=64)
    api_base_url: str = Field(default="https://api.twilio.com", max_length=500)
    status_callbacks: bool = True

    @model_validator(mode="after")
    def _sender(self) -> TwilioSmsConfig:
        if not self.from_number and not self.messaging_service_sid:
            raise ValueError("from_number or messaging_service_sid is required")
        return self


def _filename(index: int, content_type: str) -> str:
    extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ".bin"
    return f"media-{index}{extension}"


class SmsAdapter:
    kind: ClassVar[str] = "sms"
    identity_kind: ClassVar[str] = "phone"
    capabilities: ClassVar[Capabilities] = Capabilities(text=True, media=True, max_length=MAX_BODY * 10,
                                                        consent_required=True)
    config_schema: ClassVar[type[BaseModel]] = TwilioSmsConfig

    # ── inbound ──
    def verify(self, request: InboundRequest, channel: Channel) -> None:
        twilio.verify(request, channel.config["auth_token"])

    @provider_http.tolerant
    def idempotency_key(self, request: InboundRequest, channel: Channel) -> str:
        params = twilio.form_first(request.body)
        sid = params.get("MessageSid") or params.get("SmsMessageSid") or params.get("SmsSid")
        if not sid:
            raise PayloadError("MessageSid is required")
        status = params.get("MessageStatus") or params.get("SmsStatus") or ""
        return sid if status in ("", "received") else f"status:{sid}:{status}"

    @provider_http.tolerant
    def parse_inbound(self, request: InboundRequest, channel: Channel) -> list[InboundItem]:
        params = twilio.form_first(request.body)
        sid = params.get("MessageSid") or params.get("SmsMessageSid") or params.get("SmsSid") or ""
        status = params.get("MessageStatus") or params.get("SmsStatus") or ""
        if status not in ("", "received"):
            mapped = STATUS_MAP.get(status)
            if mapped is None:  # queued, accepted, sending, scheduled: nothing to show yet
                return []
            reason = ""
            if mapped == "failed":
                reason = " ".join(x for x in (params.get("ErrorCode", ""), params.get("ErrorMessage", "")) if x)
                reason = reason or status
            return [DeliveryStatusUpdate(sid, mapped, reason)]
        sender = params.get("From", "")
        if not sender:
            raise PayloadError("From is required")
        kind, address = ("whatsapp", sender[9:]) if sender.startswith(WHATSAPP_PREFIX) else ("phone", sender)
        text = params.get("Body", "")
        attachments, missing = self._media(params, channel)
        metadata: dict[str, Any] = {"to": params.get("To", ""), "segments": params.get("NumSegments", "")}
        for key in ("FromCity", "FromState", "FromCountry"):
            if params.get(key):
                metadata[key[4:].lower()] = params[key]
        if missing:
            metadata["media_unavailable"] = missing
        record = self._consent(channel, kind, address, text, sid, params.get("OptOutType", ""))
        if record is not None:
            metadata["consent"] = record.action
        return [InboundMessage(
            provider_message_id=sid, sender_kind=kind, sender_address=address, text=text,
            sender_name=params.get("ProfileName", ""),
            attachments=tuple(attachments), metadata=metadata,
        )]

    def _whatsapp_sender(self, channel: Channel, address: str) -> str:
        """The `whatsapp:+…` address of ours the customer last wrote to on this channel ("" if unknown)."""
        from threadline.conversations.models import Message

        to = (Message.objects.filter(channel=channel, direction="in", identity__kind="whatsapp",
                                     identity__address=address)
              .order_by("-created_at", "-id").values_list("metadata__to", flat=True).first())
        return to if isinstance(to, str) and to.startswith(WHATSAPP_PREFIX) else ""

    def _media(self, params: dict[str, str], channel: Channel) -> tuple[list[InboundAttachment], list[str]]:
        config = channel.config
        auth = twilio.basic_auth(config["account_sid"], config["auth_token"])
        found, missing = [], []
        count = int(params.get("NumMedia") or 0) if (params.get("NumMedia") or "0").isdigit() else 0
        for index in range(min(count, 10)):
            url = params.get(f"MediaUrl{index}", "")
            if not url:
                continue
            response = provider_http.download(url, headers=auth)
            if response.status_code >= 500:
                raise provider_http.TransientSendError(f"media {url} answered {response.status_code}")
            if response.status_code != 200:
                missing.append(url)
                continue
            ctype = params.get(f"MediaContentType{index}") or response.headers.get("content-type", "")
            found.append(InboundAttachment(_filename(index, ctype), ctype or "application/octet-stream",
                                           response.body))
        return found, missing

    def _consent(self, channel: Channel, kind: str, address: str, text: str, sid: str, opt_out_type: str) -> Any:
        from threadline.consent.actions import do_record_keyword
        from threadline.contacts.identities import normalize

        try:
            normalized = normalize(kind, address, region=channel.workspace.default_region, vouched=True)
        except ValidationFailed:
            return None
        return do_record_keyword(channel, kind, normalized, text, provider_message_id=sid,
                                 provider_says=opt_out_type)

    def handshake(self, request: InboundRequest, channel: Channel) -> HttpResponse:
        """GET serves signed media links (outbound MMS); nothing else is answered."""
        return media.serve(request, channel) or JsonResponse(
            {"code": "method_not_allowed", "message": _("Use POST.")}, status=405)

    # ── rules ──
    def check_connection(self, channel: Channel) -> str:
        config = channel.config
        return twilio.account_name(config["api_base_url"], config["account_sid"], config["auth_token"])

    def check_send(self, conversation: Any, identity: Any, channel: Channel, *, template: dict | None = None) -> None:
        from threadline.consent.queries import is_opted_out

        if template is not None:
            raise ValidationFailed(_("SMS has no templates; write the message instead."),
                                   code="templates_unsupported", field="template")
        if is_opted_out(channel, identity.kind, identity.address):
            raise ValidationFailed(
                _("%(address)s replied STOP on this number: no message may be sent until they send START.")
                % {"address": identity.address}, code="no_consent", field="channel_id")
        if identity.kind == "whatsapp":  # WhatsApp's rule holds through Twilio too (else error 63016)
            check_window(channel, identity, WHATSAPP_WINDOW, _(
                "WhatsApp allows free-text replies only within 24 hours of the customer's last message "
                "(last one: %(when)s), and this channel sends no WhatsApp templates."), field="channel_id")

    def send_hints(self, conversation: Any, identity: Any, channel: Channel, *, text: str = "") -> dict[str, Any]:
        """The SMS segment count of the draft, shown before sending."""
        return {"segmentation": segment(text).as_dict()}

    # ── outbound ──
    def send(self, message: OutboundMessage, channel: Channel) -> DeliveryResult:
        config = channel.config
        url = f"{config['api_base_url'].rstrip('/')}/2010-04-01/Accounts/{config['account_sid']}/Messages.json"
        base: dict[str, str | list[str]] = {"To": message.recipient_address}
        if config.get("messaging_service_sid"):
            base["MessagingServiceSid"] = config["messaging_service_sid"]
        else:
            base["From"] = config["from_number"]
        if message.recipient_kind == "whatsapp":  # answered on WhatsApp, from the address the customer wrote to
            base["To"] = WHATSAPP_PREFIX + e164(message.recipient_address)
            sender = self._whatsapp_sender(channel, message.recipient_address)
            if sender or "From" in base:
                base["From"] = sender or WHATSAPP_PREFIX + config["from_number"]
        if config.get("status_callbacks", True):
            base["StatusCallback"] = f"{settings.PUBLIC_URL}/hooks/sms/{channel.pk}/"
        text = choices.numbered(message)  # "Reply 1 for …": the number back maps to the choice
        parts = [text[i:i + MAX_BODY] for i in range(0, len(text), MAX_BODY)] or [""]
        links = [media.media_link(channel, a["id"]) for a in message.metadata.get("attachments", [])][:10]
        first_sid = ""
        headers = twilio.basic_auth(config["account_sid"], config["auth_token"])
        for index, part in enumerate(parts):
            data = {**base, "Body": part}
            if index == 0 and links:
                data["MediaUrl"] = links
            response = provider_http.call("Twilio", lambda data=data: http.post_form(url, data=data, headers=headers))
            first_sid = first_sid or str(provider_http.json_of(response).get("sid", ""))
        return DeliveryResult(provider_message_id=first_sid or f"tl-out-{message.message_id}")
