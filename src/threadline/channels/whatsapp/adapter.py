"""WhatsApp through Meta's Cloud API.

Inbound: `POST /hooks/whatsapp/<channel_id>/` with `X-Hub-Signature-256` (app secret), payload
`{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {...}}]}]}`;
`value.messages[]` (text, image, audio, video, document, sticker, location, contacts, button, interactive,
reaction, order, referral-carrying messages, unsupported) and `value.statuses[]` (sent, delivered, read,
failed with `errors[]`), several per payload. Media is fetched from the Graph API (`GET /{media-id}` → url →
download with the token). The GET `hub.challenge` handshake answers Meta's subscription check.
Rules: free text only within 24 hours of the customer's last message on this number; outside it, an
approved template (synced from the Business Account) with its variables.
Outbound: `POST {graph}/{phone_number_id}/messages`; media is uploaded first (`POST /{phone_number_id}/media`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.http import HttpResponse
from django.utils.translation import gettext as _
from pydantic import BaseModel, Field

from threadline.channels import choices, provider_http
from threadline.channels.base import (
    Capabilities,
    DeliveryResult,
    DeliveryStatusUpdate,
    InboundItem,
    InboundMessage,
    InboundRequest,
    InboundRoute,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    ProviderTemplates,
)
from threadline.channels.meta import graph, routing
from threadline.channels.meta.window import check_window, last_customer_message_at
from threadline.channels.models import Channel
from threadline.channels.whatsapp import templates
from threadline.core.errors import ValidationFailed
from threadline.core.time import now

WINDOW = dt.timedelta(hours=24)
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")


class WhatsAppConfig(BaseModel):
    phone_number_id: str = Field(min_length=1, max_length=64)
    business_account_id: str = Field(default="", max_length=64, description="WABA id, for template sync")
    access_token: str = Field(min_length=8, max_length=1000)
    app_secret: str = Field(min_length=8, max_length=200)
    verify_token: str = Field(min_length=8, max_length=200)
    graph_base_url: str = Field(default="https://graph.facebook.com/v21.0", max_length=500)


def _at(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Sender:
    address: str  # the phone number (wa_id) when WhatsApp shares it, else the business-scoped user id
    name: str = ""
    user: dict[str, str] = field(default_factory=dict)  # user_id, parent_user_id, username as given


def _sender(message: dict[str, Any], contacts: list[dict[str, Any]]) -> Sender:
    """Who wrote `message`: WhatsApp users with a username may withhold their number; the message then names
    them by `from_user_id` (a business-scoped user id, BSUID, such as `US.13491208655302741918`) and
    `contacts[]` carries `user_id` and `profile.username` instead of `wa_id`."""
    phone = str(message.get("from") or "")
    user_id = str(message.get("from_user_id") or "")
    contact = next((c for c in contacts if (phone and c.get("wa_id") == phone)
                    or (user_id and c.get("user_id") == user_id)), contacts[0] if len(contacts) == 1 else {})
    profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
    user_id = user_id or str(contact.get("user_id") or "")
    address = phone or str(contact.get("wa_id") or "") or user_id
    if not address:
        raise PayloadError("a message names no sender (neither from, from_user_id nor a contact's wa_id/user_id)")
    user = {k: str(v) for k, v in (("user_id", user_id), ("parent_user_id", contact.get("parent_user_id")),
                                   ("username", profile.get("username"))) if v}
    return Sender(address, str(profile.get("name") or profile.get("username") or ""), user)


def _to(address: str) -> dict[str, str]:
    """The addressee of a send: a phone number goes in `to`, a business-scoped user id in `recipient`."""
    return {"to": address} if address.lstrip("+").isdigit() else {"recipient": address}


class WhatsAppAdapter:
    kind: ClassVar[str] = "whatsapp"
    identity_kind: ClassVar[str] = "whatsapp"
    capabilities: ClassVar[Capabilities] = Capabilities(
        text=True, media=True, templates=True, read_receipts=True, max_length=4096, reply_window_hours=24,
        interactive=True, consent_required=True, max_choices=10)
    config_schema: ClassVar[type[BaseModel]] = WhatsAppConfig

    # ── inbound ──
    def verify(self, request: InboundRequest, channel: Channel) -> None:
        graph.verify(request, channel.config["app_secret"])

    def handshake(self, request: InboundRequest, channel: Channel) -> HttpResponse:
        return graph.handshake(request, channel)

    # ── one app, many numbers (meta/routing.py) ──
    def owns(self, channel: Channel, owner_id: str) -> bool:
        return channel.config.get("phone_number_id") == owner_id

    def _changes(self, doc: dict[str, Any]) -> list[tuple[str, Any]]:
        """(phone_number_id, value) of each `messages` change: the part one number owns."""
        found = []
        for entry in routing.entries(doc, self.kind):
            for change in entry.get("changes", []) or []:
                if isinstance(change, dict) and change.get("field") == "messages":
                    value = change.get("value") or {}
                    metadata = (value.get("metadata") or {}) if isinstance(value, dict) else {}
                    found.append((str(metadata.get("phone_number_id", "")), value))
        return found

    @provider_http.tolerant
    def owner_ids(self, doc: dict[str, Any]) -> list[str]:
        return [owner for owner, _value in self._changes(doc)]

    @provider_http.tolerant
    def route(self, request: InboundRequest, channel: Channel) -> list[InboundRoute]:
        return routing.route(request, channel)

    def _values(self, request: InboundRequest, channel: Channel) -> list[dict[str, Any]]:
        """The changes this channel's number owns (the same payload may carry other numbers' changes)."""
        return [value for owner, value in self._changes(graph.document(request)) if self.owns(channel, owner)]

    @provider_http.tolerant
    def idempotency_key(self, request: InboundRequest, channel: Channel) -> str:
        ids = []
        for value in self._values(request, channel):
            ids += [str(m.get("id")) for m in value.get("messages", []) or []]
            ids += [f"{s.get('id')}:{s.get('status')}" for s in value.get("statuses", []) or []]
        return graph.payload_key(ids, request.body)

    @provider_http.tolerant
    def parse_inbound(self, request: InboundRequest, channel: Channel) -> list[InboundItem]:
        items: list[InboundItem] = []
        for value in self._values(request, channel):
            contacts = [c for c in value.get("contacts", []) or [] if isinstance(c, dict)]
            for message in value.get("messages", []) or []:
                items.append(self._message(channel, message, _sender(message, contacts)))
            for status in value.get("statuses", []) or []:
                reason = "; ".join(
                    f"{e.get('code')} {e.get('title') or e.get('message', '')}: "
                    f"{(e.get('error_data') or {}).get('details', '')}".strip(" :")
                    for e in status.get("errors", []) or [])
                mapped = status.get("status")
                if mapped in ("sent", "delivered", "read", "failed"):
                    items.append(DeliveryStatusUpdate(str(status.get("id")), mapped, reason, _at(status.get("timestamp"))))
        return items

    def _message(self, channel: Channel, message: dict[str, Any], who: Sender) -> InboundMessage:
        kind = message.get("type", "unknown")
        body = message.get(kind) if isinstance(message.get(kind), dict) else {}
        metadata: dict[str, Any] = {"type": kind}
        text, attachments = "", []
        if kind == "text":
            text = body.get("body", "")
        elif kind in MEDIA_TYPES:
            text = body.get("caption", "") or (_("(sticker)") if kind == "sticker" else "")
            attachment = self._media(channel, body, kind)
            if attachment is not None:
                attachments.append(attachment)
            else:
                metadata["media_unavailable"] = body.get("id")
        elif kind == "location":
            label = ", ".join(x for x in (body.get("name"), body.get("address")) if x)
            text = _("Location: %(label)s (%(lat)s, %(lon)s)") % {"label": label, "lat": body.get("latitude"),
                                                                     "lon": body.get("longitude")}
            metadata["location"] = body
        elif kind == "contacts":
            shared = message.get("contacts", []) or []
            text = "\n".join(_("Contact: %(name)s %(phones)s") % {
                "name": (c.get("name") or {}).get("formatted_name", ""),
                "phones": ", ".join(p.get("phone", "") for p in c.get("phones", []) or [])} for c in shared)
            metadata["contacts"] = shared
        elif kind == "button":  # a template's quick-reply button
            text, metadata["payload"] = body.get("text", ""), body.get("payload", "")
            metadata = choices.picked(metadata, body.get("payload"))
        elif kind == "interactive":
            reply = body.get(body.get("type", ""), {}) or {}
            text, metadata["reply_id"] = reply.get("title", ""), reply.get("id", "")
            metadata = choices.picked(metadata, reply.get("id"))
            if reply.get("description"):
                metadata["description"] = reply["description"]
        elif kind == "reaction":
            emoji = body.get("emoji", "")
            text = _("Reacted %(emoji)s") % {"emoji": emoji} if emoji else _("Removed a reaction")
            metadata["reaction"] = {"message_id": body.get("message_id"), "emoji": emoji}
        elif kind == "order":
            items = body.get("product_items", []) or []
            text = _("Order: %(n)d items") % {"n": len(items)}
            metadata["order"] = body
        else:  # unsupported, system, or a type added after this code
            text = _("(unsupported WhatsApp message: %(type)s)") % {"type": kind}
            metadata["errors"] = message.get("errors", [])
        if message.get("referral"):
            metadata["referral"] = message["referral"]
        if message.get("context"):
            metadata["context"] = message["context"]
        if who.user:
            metadata["whatsapp_user"] = who.user
        sender = who.address
        self._consent(channel, sender, text if kind == "text" else "", str(message.get("id", "")), metadata)
        return InboundMessage(
            provider_message_id=str(message.get("id", "")), sender_kind="whatsapp", sender_address=sender,
            sender_name=who.name, sender_verified=True, text=text, sent_at=_at(message.get("timestamp")),
            attachments=tuple(attachments), metadata=metadata,
            references=(message["context"]["id"],) if (message.get("context") or {}).get("id") else (),
        )

    def _media(self, channel: Channel, body: dict[str, Any], kind: str) -> Any:
        media_id = body.get("id")
        if not media_id:
            return None
        info = graph.get_json(channel, f"{channel.config['graph_base_url'].rstrip('/')}/{media_id}")
        if not info.get("url"):
            return None
        filename = body.get("filename") or f"{kind}-{media_id}"
        return graph.fetch(channel, info["url"], filename=filename, content_type=body.get("mime_type", ""))

    def _consent(self, channel: Channel, sender: str, text: str, message_id: str, metadata: dict[str, Any]) -> None:
        from threadline.consent.actions import do_record_keyword
        from threadline.contacts.identities import normalize

        if not text:
            return
        try:
            address = normalize("whatsapp", sender, vouched=True)
        except ValidationFailed:
            return
        record = do_record_keyword(channel, "whatsapp", address, text, provider_message_id=message_id)
        if record is not None:
            metadata["consent"] = record.action

    # ── rules ──
    def check_connection(self, channel: Channel) -> str:
        """GET the phone number: its display number and verified business name."""
        config = channel.config
        number = graph.get_json(channel, f"{config['graph_base_url'].rstrip('/')}/{config['phone_number_id']}"
                                         "?fields=display_phone_number,verified_name")
        if not number.get("display_phone_number"):
            raise PermanentSendError("the phone number has no display_phone_number")
        name = number.get("verified_name", "")
        return f"{number['display_phone_number']} ({name})" if name else str(number["display_phone_number"])

    def provider_templates(self, channel: Channel) -> ProviderTemplates:
        """The number's templates as last synced from its WhatsApp Business Account."""
        synced = list(templates.synced(channel))
        return ProviderTemplates(templates=synced, synced_at=max((t.synced_at for t in synced), default=None),
                                 can_sync=bool(channel.config.get("business_account_id")))

    def sync_templates(self, channel: Channel) -> int:
        return templates.do_sync_templates(channel)

    def check_send(self, conversation: Any, identity: Any, channel: Channel, *, template: dict | None = None) -> None:
        """Free text within 24 hours of the customer's last message here; otherwise an approved template."""
        from threadline.consent.queries import is_opted_out

        if is_opted_out(channel, identity.kind, identity.address):
            raise ValidationFailed(_("This customer opted out of WhatsApp messages from this number."),
                                   code="no_consent", field="channel_id")
        if template is not None and template["name"] != "interactive":
            templates.check_template(channel, template)
            return
        check_window(channel, identity, WINDOW, _(
            "WhatsApp allows free-text replies only within 24 hours of the customer's last message "
            "(last one: %(when)s). Send an approved template instead."), field="template")

    def send_hints(self, conversation: Any, identity: Any, channel: Channel, *, text: str = "") -> dict[str, Any]:
        from threadline.channels.whatsapp.models import MessageTemplate

        last = last_customer_message_at(channel, identity.address, identity.kind)
        ends = last + WINDOW if last else None
        approved = MessageTemplate.objects.filter(channel=channel, status="APPROVED").order_by("name", "language")
        return {
            "window_ends_at": ends.isoformat() if ends else None,
            "window_open": bool(ends and ends > now()),
            "templates": [{"name": t.name, "language": t.language, "variables": t.variables,
                           "preview": templates.body_text(t, [])} for t in approved],
        }

    # ── outbound ──
    def send(self, message: OutboundMessage, channel: Channel) -> DeliveryResult:
        config = channel.config
        base = config["graph_base_url"].rstrip("/")
        head = {"messaging_product": "whatsapp", "recipient_type": "individual", **_to(message.recipient_address)}
        bodies: list[dict[str, Any]] = []
        offered = choices.buttons(message)[:self.capabilities.max_choices]
        if offered and not message.metadata.get("attachments"):  # reply buttons (or a list) under the text
            bodies.append({**head, "type": "interactive", "interactive": self._interactive(message, offered)})
        elif message.template:
            bodies.append({**head, "type": "template", "template": self._template(message.template)})
        else:
            files = message.metadata.get("attachments", [])
            for index, item in enumerate(files):
                media_id = self._upload(channel, base, item["id"])
                kind = graph.media_kind(item["content_type"])
                payload: dict[str, Any] = {"id": media_id}
                if index == 0 and message.text and kind != "audio":
                    payload["caption"] = message.text
                if kind == "document":
                    payload["filename"] = item["filename"]
                bodies.append({**head, "type": kind, kind: payload})
            if not files or graph.media_kind(files[0]["content_type"]) == "audio":
                bodies.insert(0, {**head, "type": "text", "text": {"preview_url": False, "body": message.text}})
        first = ""
        for body in bodies:
            answer = graph.post_json(channel, f"{base}/{config['phone_number_id']}/messages", body)
            ids = [m.get("id") for m in answer.get("messages", []) or [] if m.get("id")]
            if not ids:
                raise PermanentSendError(f"WhatsApp answered without a message id: {answer}")
            first = first or ids[0]
        return DeliveryResult(provider_message_id=first)

    def _interactive(self, message: OutboundMessage, buttons: list[dict[str, str]]) -> dict[str, Any]:
        """Up to three reply buttons (titles of at most 20 characters), or a list of up to ten rows."""
        body = {"text": message.text[:1024]}
        if len(buttons) <= 3:
            return {"type": "button", "body": body, "action": {"buttons": [
                {"type": "reply", "reply": {"id": b["id"], "title": b["title"][:20]}} for b in buttons]}}
        return {"type": "list", "body": body, "action": {
            "button": str((message.template or {}).get("button_text") or _("Choose"))[:20],
            "sections": [{"title": _("Options")[:24], "rows": [{"id": b["id"], "title": b["title"][:24]}
                                                              for b in buttons]}]}}

    def _template(self, template: dict[str, Any]) -> dict[str, Any]:
        components = template.get("components")
        if components is None:
            variables = template.get("variables", [])
            components = [{"type": "body", "parameters": [{"type": "text", "text": v} for v in variables]}] \
                if variables else []
        return {"name": template["name"], "language": {"code": template.get("language") or "en_US"},
                "components": components}

    def _upload(self, channel: Channel, base: str, attachment_id: int) -> str:
        from threadline.conversations.models import Attachment

        attachment = Attachment.objects.get(pk=attachment_id)
        with attachment.file.open("rb") as handle:
            content = handle.read()
        answer = graph.upload(channel, f"{base}/{channel.config['phone_number_id']}/media",
                              {"messaging_product": "whatsapp", "type": attachment.content_type},
                              attachment.filename, attachment.content_type, content)
        if not answer.get("id"):
            raise PermanentSendError(f"WhatsApp media upload answered without an id: {answer}")
        return str(answer["id"])
