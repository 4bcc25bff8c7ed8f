"""The portal channel: customers' messages written in the portal (`/portal/`) or a public web form (the help
center's "contact us", article feedback, the community's "move to private").

Inbound: nothing arrives over a webhook (`/hooks/portal/<id>/` refuses every request): the portal domain
stores each submission as an `InboundEvent` (`portal.actions.submit`), and this adapter parses it in the
worker like any other channel's payload. Outbound: an agent's reply is shown in the portal, and the customer
is told by email with a one-time link to the conversation (`notify.py`). See docs/channels/portal.md.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, ClassVar

from django.utils.translation import gettext as _
from pydantic import BaseModel, Field

from threadline.channels.base import (
    Capabilities,
    DeliveryResult,
    InboundAttachment,
    InboundItem,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
    PayloadError,
    VerificationError,
)
from threadline.channels.models import Channel


class PortalChannelConfig(BaseModel):
    notify_by_email: bool = Field(default=True, description="Tell the customer about a reply by email")


class PortalAdapter:
    kind: ClassVar[str] = "portal"
    identity_kind: ClassVar[str] = "email"
    capabilities: ClassVar[Capabilities] = Capabilities(text=True, media=True, max_length=20_000)
    config_schema: ClassVar[type[BaseModel]] = PortalChannelConfig

    def verify(self, request: InboundRequest, channel: Channel) -> None:
        raise VerificationError(_("Portal messages are written in the portal, not posted to a webhook."))

    def idempotency_key(self, request: InboundRequest, channel: Channel) -> str:
        raise PayloadError("the portal channel has no webhook")

    def parse_inbound(self, request: InboundRequest, channel: Channel) -> list[InboundItem]:
        from threadline.portal.actions import prepare_sender

        document = self._document(request)
        kind, address, verified = prepare_sender(channel, document)
        attachments = []
        for item in document.get("attachments") or []:
            try:
                content = base64.b64decode(item["content_base64"], validate=True)
            except (KeyError, TypeError, binascii.Error, ValueError) as exc:
                raise PayloadError(f"attachment {item!r:.60}: not base64") from exc
            attachments.append(InboundAttachment(str(item.get("filename", "")), str(item.get("content_type", "")),
                                                 content))
        metadata: dict[str, Any] = {"portal": {"source": document.get("source", ""),
                                               "brand_id": document.get("brand_id")}}
        return [InboundMessage(
            provider_message_id=str(document["submission_id"]), sender_kind=kind, sender_address=address,
            sender_name=str(document.get("name") or ""), sender_verified=verified,
            text=str(document.get("text") or ""), subject=str(document.get("subject") or ""),
            conversation_hint=document.get("conversation_id"), attachments=tuple(attachments), metadata=metadata,
        )]

    def _document(self, request: InboundRequest) -> dict[str, Any]:
        try:
            document = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PayloadError(f"the submission is not JSON: {exc}") from exc
        if not isinstance(document, dict) or not document.get("submission_id"):
            raise PayloadError("the submission has no submission_id")
        return document

    def cannot_deliver(self, channel: Channel) -> str:
        return ""

    def send(self, message: OutboundMessage, channel: Channel) -> DeliveryResult:
        from threadline.channels.portal.notify import notify

        return notify(message, channel)
