"""Reads for the customer portal: the workspace's portal channel, what a signed-in customer may see.

A customer sees the conversations of their contact (merges move conversations to the surviving contact, so
merged contacts are included) and of the pseudo-contact of an address they proved they own
(`actions.PSEUDO_PREFIX`), with public messages only: never internal notes, never another contact's data.
`access_conversation` is the only permission-checked lookup: anything else is NotFound (404).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.channels.models import Channel, InboundEvent
from threadline.contacts.models import Contact, ContactIdentity, IdentityKind
from threadline.conversations.models import Conversation, Message
from threadline.core.errors import NotFound

PSEUDO_PREFIX = "portal:"


def portal_channel(workspace_id: int) -> Channel | None:
    return Channel.objects.filter(workspace_id=workspace_id, kind="portal").order_by("id").first()


def followed(contact: Contact | None) -> Contact | None:
    """The contact a merged contact now lives in."""
    seen = 0
    while contact is not None and contact.merged_into_id and seen < 20:
        contact, seen = contact.merged_into, seen + 1
    return contact


def message_of(event: InboundEvent) -> Message | None:
    """The message a submission became, once the worker processed it (None before)."""
    return Message.objects.filter(channel_id=event.channel_id, provider_message_id=event.idempotency_key).first()


def customer_contacts(workspace_id: int, contact_id: int, email: str = "") -> list[int]:
    """Ids of the contacts whose conversations a customer signed in as `contact_id` sees; with `email`, an
    address they proved, also the pseudo-contact of that address."""
    found = []
    own = followed(Contact.objects.filter(pk=contact_id, workspace_id=workspace_id).first())
    if own is not None:
        found.append(own.pk)
    if email:
        pseudo = ContactIdentity.objects.filter(workspace_id=workspace_id, kind=IdentityKind.EXTERNAL,
                                                address=PSEUDO_PREFIX + email).select_related("contact").first()
        contact = followed(pseudo.contact) if pseudo is not None else None
        if contact is not None and contact.pk not in found:
            found.append(contact.pk)
    return found


def conversations_of(workspace_id: int, contact_ids: list[int]) -> QuerySet[Conversation]:
    return (Conversation.objects.filter(workspace_id=workspace_id, contact_id__in=contact_ids,
                                        merged_into__isnull=True)
            .order_by("-last_message_at", "-id"))


def access_conversation(workspace_id: int, contact_ids: list[int], conversation_id: int) -> Conversation:
    """One of the customer's conversations, following merges; NotFound otherwise (another contact's, another
    workspace's, or none)."""
    conversation = Conversation.objects.filter(pk=conversation_id, workspace_id=workspace_id).first()
    seen = 0
    while conversation is not None and conversation.merged_into_id and seen < 20:
        conversation, seen = conversation.merged_into, seen + 1
    if conversation is None or conversation.contact_id not in contact_ids:
        raise NotFound(_("No such request."), code="conversation_not_found")
    return conversation


def public_messages(conversation: Conversation) -> QuerySet[Message]:
    """What the customer may read on a conversation: messages to and from them, never notes."""
    return (Message.objects.filter(conversation=conversation, is_note=False).select_related("channel")
            .prefetch_related("attachments").order_by("created_at", "id"))
