"""The web chat channel (`/widget.js`): visitors write over a WebSocket, agents' replies are pushed back.

Inbound: the widget's socket (`consumer.py`) and upload view verify the visitor token, then store the message
through `actions.do_receive_visitor_message` (an InboundEvent for audit, then `receive_inbound_message`).
The generic webhook edge is closed for this kind: nothing may post visitor messages without a token.
Outbound: `send` pushes the reply to the contact's live sessions (every open widget tab). When the customer
has no live session and left an email, the reply also goes out by email on the workspace's email channel,
so the conversation continues by email; its provider id is then the email's, so the customer's emailed
answer threads back into the same conversation.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any, ClassVar

from pydantic import BaseModel

from threadline.channels.base import (
    Capabilities,
    DeliveryResult,
    InboundItem,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
    PayloadError,
    VerificationError,
)
from threadline.channels.models import Channel
from threadline.channels.registry import ADAPTERS, adapter_for
from threadline.channels.webchat.config import WebchatConfig, load
from threadline.channels.webchat.models import Visitor
from threadline.channels.webchat.queries import message_payload
from threadline.contacts.models import ContactIdentity, IdentityKind
from threadline.conversations.models import Conversation, Message
from threadline.realtime import presence
from threadline.realtime.dispatch import send_to_group
from threadline.realtime.groups import contact_group

logger = logging.getLogger(__name__)
EMAIL_KIND = "email"


def provider_id(message_id: int) -> str:
    return f"webchat-{message_id}"


class WebchatAdapter:
    kind: ClassVar[str] = "webchat"
    identity_kind: ClassVar[str] = IdentityKind.VISITOR
    capabilities: ClassVar[Capabilities] = Capabilities(text=True, media=True, typing=True, read_receipts=True,
                                                        max_length=10_000, max_choices=100)
    config_schema: ClassVar[type[BaseModel]] = WebchatConfig

    def verify(self, request: InboundRequest, channel: Channel) -> None:
        raise VerificationError("web chat messages arrive over the widget's socket, with a visitor token")

    def idempotency_key(self, request: InboundRequest, channel: Channel) -> str:
        document = self._document(request)
        return f"{document['visitor_id']}:{document['client_id']}"

    def _document(self, request: InboundRequest) -> dict[str, Any]:
        try:
            document = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PayloadError(f"body is not JSON: {exc}") from exc
        if not isinstance(document, dict) or not document.get("visitor_id") or not document.get("client_id"):
            raise PayloadError("visitor_id and client_id are required")
        return document

    def parse_inbound(self, request: InboundRequest, channel: Channel) -> list[InboundItem]:
        """Replays a stored visitor message (its attachments were stored with the original)."""
        document = self._document(request)
        sender = document.get("sender") or {}
        return [InboundMessage(
            provider_message_id=f"{document['visitor_id']}:{document['client_id']}",
            sender_kind=sender.get("kind", IdentityKind.VISITOR),
            sender_address=sender.get("address", document["visitor_id"]),
            sender_name=sender.get("name", ""), sender_verified=bool(sender.get("verified")),
            text=document.get("text", ""), metadata={"visitor_id": document["visitor_id"],
                                                     **({"choice": document["choice"]} if document.get("choice") else {})},
        )]

    def send(self, message: OutboundMessage, channel: Channel) -> DeliveryResult:
        stored = (Message.objects.select_related("author_membership__user", "conversation")
                  .prefetch_related("attachments").get(pk=message.message_id))
        contact_id = stored.conversation.contact_id
        send_to_group(contact_group(contact_id), {"type": "visitor.message", "message": message_payload(stored)})
        if not presence.contact_online(contact_id):
            emailed = self._continue_by_email(message, channel, stored.conversation)
            if emailed is not None:
                return emailed
        return DeliveryResult(provider_message_id=provider_id(message.message_id), status="sent")

    def _continue_by_email(self, message: OutboundMessage, channel: Channel,
                           conversation: Conversation) -> DeliveryResult | None:
        """Send the reply by email when the customer is away and left an address; None when it cannot."""
        address = continuation_address(channel, conversation)
        email_channel = continuation_channel(channel)
        if not address or email_channel is None:
            return None
        outbound = dataclasses.replace(message, recipient_kind=IdentityKind.EMAIL, recipient_address=address)
        result = adapter_for(email_channel.kind).send(outbound, email_channel)
        logger.info("web chat reply %s continued by email on channel %s", message.message_id, email_channel.pk)
        return result

    def contact_label(self, contact: Any) -> str:
        from threadline.channels.webchat.visitor_context import visitor_label

        return visitor_label(contact)

    def contact_context(self, contact: Any) -> dict[str, Any] | None:
        from threadline.channels.webchat.visitor_context import visitor_context

        return visitor_context(contact)

    def install_snippet(self, channel: Channel) -> str:
        from threadline.channels.webchat.preview import install_snippet

        return install_snippet(channel)

    def preview(self, request: Any, channel: Channel, overrides: Any) -> Any:
        from threadline.channels.webchat.preview import preview_response

        return preview_response(request, channel, overrides)

    def websocket_consumer(self) -> Any:
        from threadline.channels.webchat.consumer import VisitorConsumer

        return VisitorConsumer.as_asgi()


def continuation_address(channel: Channel, conversation: Conversation) -> str:
    """Where an away visitor's replies go: the email they left on the widget, else their contact's email."""
    visitor = (Visitor.objects.filter(channel=channel, contact_id=conversation.contact_id).exclude(email="")
               .order_by("-last_seen_at", "-id").first())
    if visitor is not None:
        return visitor.email
    identity = (ContactIdentity.objects.filter(contact_id=conversation.contact_id, kind=IdentityKind.EMAIL)
                .order_by("-verified", "-id").first())
    return identity.address if identity else ""


def continuation_channel(channel: Channel) -> Channel | None:
    """The email channel configured on the chat channel, else the workspace's first active email channel."""
    if EMAIL_KIND not in ADAPTERS:
        return None
    config: WebchatConfig = load(channel.config)
    channels = Channel.objects.filter(workspace_id=channel.workspace_id, kind=EMAIL_KIND, is_active=True)
    if config.email_channel_id is not None:
        return channels.filter(pk=config.email_channel_id).first()
    return channels.order_by("id").first()
