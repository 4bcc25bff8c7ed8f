"""Reads for the chat widget: a visitor from their token, what they may see, and whether anyone answers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from threadline.channels.models import Channel
from threadline.channels.webchat import tokens
from threadline.channels.webchat.models import Visitor
from threadline.contacts.models import Contact, ContactIdentity, IdentityKind
from threadline.conversations.models import ACTIVE_STATUSES, Conversation, Message
from threadline.core.errors import PermissionDenied
from threadline.core.time import now
from threadline.realtime import presence
from threadline.tenancy.models import Membership

HISTORY_LIMIT = 200


def live_channel(channel_id: int) -> Channel | None:
    return Channel.objects.select_related("workspace").filter(pk=channel_id, kind="webchat", is_active=True).first()


def visitor_for_token(channel: Channel, token: str) -> Visitor | None:
    visitor_id = tokens.read(channel.pk, token)
    if visitor_id is None:
        return None
    return Visitor.objects.filter(channel=channel, visitor_id=visitor_id).select_related("contact").first()


def identity_lapsed(visitor: Visitor) -> bool:
    """An identified visitor whose identity token has expired (or who was identified by the retired
    user_hash, which never expired): their visitor token opens nothing until a fresh identify."""
    return visitor.verified and (visitor.identified_until is None or visitor.identified_until <= now())


def is_identified(visitor: Visitor) -> bool:
    return visitor.verified and not identity_lapsed(visitor)


def check_identity_current(visitor: Visitor) -> None:
    if identity_lapsed(visitor):
        raise PermissionDenied(_("Your sign-in to this chat has expired; reload the page."), code="identity_expired")


def contact_of(visitor: Visitor) -> Contact | None:
    """The visitor's contact now (following merges)."""
    return followed(visitor.contact)


def followed(contact: Contact | None) -> Contact | None:
    seen = 0
    while contact is not None and contact.merged_into_id and seen < 20:
        contact, seen = contact.merged_into, seen + 1
    return contact


def visitor_contacts(visitor: Visitor) -> list[Contact]:
    """The contacts whose history this visitor may read: their contact now, and the one their own visitor
    id belongs to (they chatted anonymously before signing in, and nobody merged the two yet)."""
    own = ContactIdentity.objects.filter(workspace_id=visitor.workspace_id, kind=IdentityKind.VISITOR,
                                         address=visitor.visitor_id).select_related("contact").first()
    found = [followed(visitor.contact), followed(own.contact if own else None)]
    return list({c.pk: c for c in found if c is not None}.values())


def visible_messages(channel: Channel, contacts: list[Contact]) -> Any:
    """What the customer may read: every message of their conversations, on any channel, but no internal
    notes. A visitor reaches a contact's history only as that contact (their own visitor id, a verified
    identity, or an agent's merge), never through details they typed."""
    return (Message.objects.filter(workspace_id=channel.workspace_id, conversation__contact__in=contacts,
                                   is_note=False)
            .select_related("author_membership__user").prefetch_related("attachments"))


def history(channel: Channel, visitor: Visitor) -> list[dict[str, Any]]:
    contacts = visitor_contacts(visitor)
    if not contacts:
        return []
    rows = list(visible_messages(channel, contacts).order_by("-created_at", "-id")[:HISTORY_LIMIT])
    return [message_payload(m) for m in reversed(rows)]


def visible_attachment_ids(channel: Channel, visitor: Visitor) -> Any:
    return visible_messages(channel, visitor_contacts(visitor)).values("attachments")


def message_payload(message: Message) -> dict[str, Any]:
    """A message as the widget shows it. Agents appear by first name only."""
    author = ""
    if message.author_membership_id and message.author_membership is not None:
        user = message.author_membership.user
        author = (user.name or "").split(" ")[0] or user.email.split("@")[0]
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "author": author,
        "text": message.text,
        "author_kind": message.author_kind,
        "choices": (message.metadata or {}).get("choices") or [] if message.direction == "out" else [],
        "status": message.status,
        "created_at": message.created_at.isoformat(),
        "attachments": [
            {"id": a.pk, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments.all()
        ],
    }


def current_conversation_id(channel: Channel, contact: Contact | None) -> int | None:
    if contact is None:
        return None
    conversation = (Conversation.objects.filter(contact=contact, status__in=ACTIVE_STATUSES, merged_into__isnull=True)
                    .order_by("-last_message_at", "-id").values("pk").first())
    return conversation["pk"] if conversation else None


def agents_available(channel: Channel) -> bool:
    """Whether an agent of the workspace is online now (connected and not away)."""
    ids = list(Membership.objects.filter(workspace_id=channel.workspace_id, is_active=True).values_list("pk", flat=True))
    return presence.any_agent_online(ids)
