"""Writes for the chat widget. Callers own the transaction (the widget's views and socket open it).

Visitors' messages take the channel-neutral path: `receive_inbound_message` with an `InboundMessage` whose
sender is the visitor id (`visitor` identity), or, once the web app identified them with a verified
signed identity, their email (or the app's user id, `external`), marked verified.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.translation import gettext as _

from threadline.channels.base import DeliveryStatusUpdate, InboundAttachment, InboundMessage
from threadline.channels.models import Channel, InboundEvent
from threadline.channels.webchat import tokens
from threadline.channels.webchat.config import load
from threadline.channels.webchat.events import VisitorEventTracked, VisitorIdentified
from threadline.channels.webchat.models import Visitor, VisitorEvent
from threadline.channels.webchat.queries import contact_of
from threadline.contacts import identities
from threadline.contacts.actions import (
    check_contact_fields,
    do_add_identity,
    do_update_contact,
    resolve_sender,
)
from threadline.contacts.models import Contact, ContactIdentity, IdentityKind
from threadline.conversations.actions import do_record_delivery_status, receive_inbound_message
from threadline.conversations.models import DeliveryStatus, Direction, Message
from threadline.core.errors import Conflict, PermissionDenied, ValidationFailed
from threadline.core.time import now
from threadline.events.bus import publish

MAX_TEXT = 10_000
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EVENT_NAME = re.compile(r"^[\w .:/-]{1,200}$")


# ── visitors ─────────────────────────────────────────────────────────────────────────────────────────
def do_start_visitor(channel: Channel, *, locale: str = "", page_url: str = "") -> tuple[Visitor, str]:
    """A new anonymous visitor and their token."""
    visitor = Visitor.objects.create(
        workspace_id=channel.workspace_id, channel=channel, visitor_id=tokens.new_visitor_id(),
        locale=locale[:16], page_url=page_url[:2000], last_seen_at=now(),
    )
    return visitor, tokens.issue(channel.pk, visitor.visitor_id)


def _attach(contact: Contact, kind: str, address: str, *, verified: bool) -> ContactIdentity | None:
    """Give `contact` this identity unless another contact has it (then nothing is linked: an agent decides)."""
    try:
        identity = do_add_identity(contact, kind, address, verified=verified, source="webchat")
    except Conflict:
        return None
    if verified and not identity.verified:
        identity.verified = True
        identity.save(update_fields=["verified", "updated_at"])
    return identity


def check_identity(channel: Channel, user_id: str, user_hash: str) -> bool:
    """Whether `user_hash` proves `user_id`; PermissionDenied when verification is on and it does not."""
    config = load(channel.config)
    if tokens.identity_hash_matches(config.secret, user_id, user_hash):
        return True
    if config.identity_verification:
        raise PermissionDenied(_("This identity could not be verified."), code="invalid_identity_hash")
    return False


def _check_user_id(user_id: Any) -> str:
    if not isinstance(user_id, str | int) or not str(user_id).strip() or len(str(user_id)) > 255:
        raise ValidationFailed(_("A user id is required."), code="invalid_user_id", field="user_id")
    return identities.check_text(str(user_id).strip(), field="user_id", max_length=255)


def _known_contact(channel: Channel, user_id: str, email: str) -> Contact | None:
    for kind, address in ((IdentityKind.EXTERNAL, user_id), (IdentityKind.EMAIL, email)):
        if not address:
            continue
        identity = ContactIdentity.objects.filter(workspace_id=channel.workspace_id, kind=kind,
                                                  address=address).select_related("contact").first()
        if identity is not None:
            contact = identity.contact
            while contact.merged_into_id:
                contact = contact.merged_into
            return contact
    return None


def do_identify(channel: Channel, visitor: Visitor, *, user_id: Any, user_hash: str = "", email: str = "",
                name: str = "") -> Visitor:
    """Link the visitor to the web app's user.

    With a valid `user_hash` the identity is attested: the visitor joins the contact that has this user id
    (or email), or their own contact gains the verified identities; from then on their messages are sent as
    that verified identity, so the contact's history is theirs. A forged hash raises PermissionDenied
    (`invalid_identity_hash`) and changes nothing. When the channel does not require verification, an
    unverified identify only records the name and email (as a pre-chat form would), never links.
    """
    user_id = _check_user_id(user_id)
    email = identities.normalize(IdentityKind.EMAIL, email) if email else ""
    name = identities.check_text((name or "").strip(), field="name", max_length=300)
    if not check_identity(channel, user_id, user_hash or ""):
        return do_leave_details(visitor, email=email, name=name)
    current = contact_of(visitor)
    contact = _known_contact(channel, user_id, email)
    if contact is None:
        if current is not None:
            contact = current
        else:
            kind, address = (IdentityKind.EMAIL, email) if email else (IdentityKind.EXTERNAL, user_id)
            contact = resolve_sender(channel.workspace, kind, address, name=name, verified=True,
                                     source="webchat").contact
    _attach(contact, IdentityKind.EXTERNAL, user_id, verified=True)
    if email:
        _attach(contact, IdentityKind.EMAIL, email, verified=True)
    own = ContactIdentity.objects.filter(workspace_id=channel.workspace_id, kind=IdentityKind.VISITOR,
                                         address=visitor.visitor_id).first()
    if own is None:
        _attach(contact, IdentityKind.VISITOR, visitor.visitor_id, verified=True)
    if name and not contact.name:
        do_update_contact(contact, name=name)
    visitor.contact, visitor.user_id, visitor.verified = contact, user_id, True
    visitor.email, visitor.name = email or visitor.email, name or visitor.name
    visitor.last_seen_at = now()
    visitor.save()
    publish(VisitorIdentified(workspace_id=channel.workspace_id, channel_id=channel.pk, contact_id=contact.pk,
                              user_id=user_id))
    return visitor


def do_leave_details(visitor: Visitor, *, email: str = "", name: str = "") -> Visitor:
    """The pre-chat or offline form: a name, and an email replies go to while the visitor is away.

    The email is added to the visitor's contact as an unverified identity when nobody else has it; it is
    never used to find (and show) another contact's history.
    """
    if email:
        email = identities.normalize(IdentityKind.EMAIL, email)
        visitor.email = email
    if name:
        visitor.name = identities.check_text(name.strip(), field="name", max_length=300)
    visitor.save(update_fields=["email", "name", "updated_at"])
    contact = contact_of(visitor)
    if contact is not None:
        if email:
            _attach(contact, IdentityKind.EMAIL, email, verified=False)
        if visitor.name and not contact.name:
            do_update_contact(contact, name=visitor.name)
    return visitor


def do_set_attributes(visitor: Visitor, attributes: Any) -> Visitor:
    """Custom attributes from the web app, kept on the contact (or until the visitor becomes one)."""
    clean = check_contact_fields({"attributes": attributes})["attributes"]
    contact = contact_of(visitor)
    if contact is not None:
        do_update_contact(contact, attributes={**contact.attributes, **clean})
    else:
        visitor.attributes = {**visitor.attributes, **clean}
        check_contact_fields({"attributes": visitor.attributes})
        visitor.save(update_fields=["attributes", "updated_at"])
    return visitor


def do_track_event(visitor: Visitor, name: Any, properties: Any = None) -> VisitorEvent:
    if not isinstance(name, str) or not EVENT_NAME.match(name):
        raise ValidationFailed(_("An event needs a short name."), code="invalid_event", field="name")
    properties = check_contact_fields({"attributes": properties or {}})["attributes"]
    contact = contact_of(visitor)
    event = VisitorEvent.objects.create(workspace_id=visitor.workspace_id, visitor=visitor, contact=contact,
                                        name=name, properties=properties)
    publish(VisitorEventTracked(workspace_id=visitor.workspace_id, channel_id=visitor.channel_id,
                                contact_id=contact.pk if contact else None, name=name, properties=properties))
    return event


# ── messages ─────────────────────────────────────────────────────────────────────────────────────────
def sender_of(visitor: Visitor) -> tuple[str, str, bool]:
    """The identity a visitor writes as: verified email or user id once identified, else the visitor id."""
    if visitor.verified and visitor.email:
        return IdentityKind.EMAIL, visitor.email, True
    if visitor.verified and visitor.user_id:
        return IdentityKind.EXTERNAL, visitor.user_id, True
    return IdentityKind.VISITOR, visitor.visitor_id, False


def check_message(client_id: Any, text: Any, attachments: tuple[InboundAttachment, ...]) -> tuple[str, str]:
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise ValidationFailed(_("The message has no valid id."), code="invalid_client_id", field="client_id")
    text = (text if isinstance(text, str) else "").strip()
    if not text and not attachments:
        raise ValidationFailed(_("The message is empty."), code="empty_message", field="text")
    if len(text) > MAX_TEXT:
        raise ValidationFailed(_("The message is too long."), code="text_too_long", field="text")
    return client_id, identities.check_text(text, field="text", max_length=MAX_TEXT)


def do_receive_visitor_message(channel: Channel, visitor: Visitor, *, client_id: Any, text: Any,
                               attachments: tuple[InboundAttachment, ...] = ()) -> Message:
    """Store a visitor's message once per (visitor, client id); a retry returns the stored message.

    The raw message is kept as an InboundEvent (processed) for audit and replay, like every channel's input.
    """
    client_id, text = check_message(client_id, text, attachments)
    key = f"{visitor.visitor_id}:{client_id}"
    existing = Message.objects.filter(channel=channel, provider_message_id=key).first()
    if existing is not None:
        return existing
    kind, address, verified = sender_of(visitor)
    body = {"visitor_id": visitor.visitor_id, "client_id": client_id, "text": text,
            "sender": {"kind": kind, "address": address, "name": visitor.name, "verified": verified},
            "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": len(a.content)}
                            for a in attachments],
            "page_url": visitor.page_url}
    InboundEvent.objects.get_or_create(
        channel=channel, idempotency_key=key[:255],
        defaults={"workspace_id": channel.workspace_id, "body": json.dumps(body, ensure_ascii=False).encode(),
                  "headers": {}, "state": InboundEvent.State.PROCESSED, "processed_at": now()},
    )
    message = receive_inbound_message(channel, InboundMessage(
        provider_message_id=key, sender_kind=kind, sender_address=address, sender_name=visitor.name,
        sender_verified=verified, text=text, attachments=attachments,
        metadata={"visitor_id": visitor.visitor_id, "page_url": visitor.page_url[:500]},
    ))
    _adopt_contact(visitor, message.author_contact)
    return message


def _adopt_contact(visitor: Visitor, contact: Contact | None) -> None:
    """After a first message: the visitor's details wait on the visitor row until their contact exists."""
    if contact is None:
        return
    changed = visitor.contact_id != contact.pk
    visitor.contact, visitor.last_seen_at = contact, now()
    visitor.save(update_fields=["contact", "last_seen_at", "updated_at"])
    if not changed:
        return
    if visitor.attributes:
        do_update_contact(contact, attributes={**visitor.attributes, **contact.attributes})
    if visitor.email:
        _attach(contact, IdentityKind.EMAIL, visitor.email, verified=visitor.verified)
    if visitor.name and not contact.name:
        do_update_contact(contact, name=visitor.name)


def do_record_receipt(channel: Channel, visitor: Visitor, *, status: Any, up_to: Any) -> int:
    """The widget showed (`delivered`) or the visitor saw (`read`) agents' messages up to `up_to`."""
    if status not in (DeliveryStatus.DELIVERED, DeliveryStatus.READ) or not isinstance(up_to, int):
        raise ValidationFailed(_("Unknown receipt."), code="invalid_receipt")
    contact = contact_of(visitor)
    if contact is None:
        return 0
    before = [DeliveryStatus.SENT] if status == DeliveryStatus.DELIVERED else [DeliveryStatus.SENT,
                                                                              DeliveryStatus.DELIVERED]
    pending = Message.objects.filter(conversation__contact=contact, channel=channel, direction=Direction.OUTBOUND,
                                     is_note=False, pk__lte=up_to, status__in=before).exclude(provider_message_id="")
    count = 0
    for message in pending.order_by("pk")[:200]:
        do_record_delivery_status(channel, DeliveryStatusUpdate(message.provider_message_id, status))
        count += 1
    return count
