"""Builders for the portal's tests: customers with conversations, signed-in clients."""

from __future__ import annotations

from django.db import transaction
from django.test import Client

from threadline.channels.base import InboundMessage
from threadline.channels.models import Channel
from threadline.contacts.models import Contact
from threadline.conversations.actions import receive_inbound_message
from threadline.conversations.models import Conversation
from threadline.portal import signin
from threadline.testing.factories import make_api_channel


def customer_writes(channel: Channel, address: str, text: str, *, kind: str = "email", message_id: str = "",
                    verified: bool = True) -> Conversation:
    """A customer's message on `channel` (an API channel stands for any provider), as the pipeline stores it."""
    with transaction.atomic():
        message = receive_inbound_message(channel, InboundMessage(
            provider_message_id=message_id or f"{address}:{text}"[:200], sender_kind=kind, sender_address=address,
            sender_name=address.split("@")[0].title(), sender_verified=verified, text=text, subject=text[:40]))
    return message.conversation


def api_channel(admin) -> Channel:
    existing = Channel.objects.filter(workspace_id=admin.workspace_id, kind="api").first()
    return existing or make_api_channel(admin)


def signed_in(contact: Contact, *, email: str = "", conversation: Conversation | None = None) -> Client:
    """A browser-less client holding a portal session for `contact`."""
    with transaction.atomic():
        raw = signin.do_start_session(contact.workspace, contact, email=email, conversation=conversation)
    client = Client()
    client.cookies[signin.COOKIE] = raw
    return client
