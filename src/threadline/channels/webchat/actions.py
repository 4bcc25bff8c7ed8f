"""Writes for the chat widget. Callers own the transaction (the widget's views and socket open it).

Visitors' messages take the channel-neutral path: `receive_inbound_message` with an `InboundMessage` whose
sender is the visitor id (`visitor` identity), or, once the web app identified them with a verified
signed identity, their email (or the app's user id, `external`), marked verified.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from threadline.channels.actions import note_event_received
from threadline.channels.base import InboundAttachment, InboundMessage
from threadline.channels.models import Channel, InboundEvent
from threadline.channels.webchat import tokens
from threadline.channels.webchat.config import load
from threadline.channels.webchat.events import VisitorEventTracked, VisitorIdentified
from threadline.channels.webchat.models import Visitor, VisitorEvent
from threadline.channels.webchat.queries import check_identity_current, contact_of, followed
from threadline.contacts import identities
from threadline.contacts.actions import (
    check_contact_fields,
    do_add_identity,
    do_update_contact,
    resolve_sender,
)
from threadline.contacts.models import Contact, ContactIdentity, IdentityKind
from threadline.conversations.actions import do_advance_status, receive_inbound_message
from threadline.conversations.models import DeliveryStatus, Direction, Message
from threadline.core.errors import Conflict, PermissionDenied, ValidationFailed
from threadline.core.time import now
from threadline.events.bus import publish

MAX_TEXT = 10_000
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHOICE = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
EVENT_NAME = re.compile(r"^[\w .:/-]{1,200}$")
UNVERIFIED_EMAIL = "unverified_email"  # the contact attribute that keeps an email a visitor typed


# ── visitors ─────────────────────────────────────────────────────────────────────────────────────────
def do_start_visitor(channel: Channel, *, locale: str = "", page_url: str = "") -> tuple[Visitor, str]:
    """A new anonymous visitor and their token."""
    visitor = Visitor.objects.create(
        workspace_id=channel.workspace_id, channel=channel, visitor_id=tokens.new_visitor_id(),
        locale=locale[:16], page_url=page_url[:2000], last_seen_at=now(),
    )
    return visitor, tokens.issue(channel.pk, visitor.visitor_id)


MAX_PAGES = 20


def do_record_visit(visitor: Visitor, *, page_url: str = "", user_agent: str = "", locale: str = "") -> Visitor:
    """The page the widget was loaded on (kept with the latest MAX_PAGES, for the agent's context), the browser
    and its language."""
    page_url = page_url[:2000]
    if page_url:
        visitor.page_url = page_url
        pages = list(visitor.pages or [])
        if not pages or pages[-1].get("url") != page_url:
            pages.append({"url": page_url, "at": now().isoformat()})
        visitor.pages = pages[-MAX_PAGES:]
    if user_agent:
        visitor.user_agent = user_agent[:500]
    if locale:
        visitor.locale = locale[:16]
    visitor.last_seen_at = now()
    visitor.save(update_fields=["page_url", "pages", "user_agent", "locale", "last_seen_at", "updated_at"])
    return visitor


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


def check_identity(channel: Channel, token: Any) -> tokens.IdentityClaims | None:
    """The verified claims of `token`; None when there is no valid token and the channel does not require
    one. PermissionDenied when it does (or when a token is present but not genuine, current and short-lived:
    an expired or forged token is never quietly downgraded to the unverified path)."""
    config = load(channel.config)
    if token or config.identity_verification:
        return tokens.read_identity_token(config.secret, token if isinstance(token, str) else "")
    return None


def _verified_addresses(channel: Channel, claims: tokens.IdentityClaims) -> list[tuple[str, str]]:
    """(kind, normalized address) of every identity the token attests, most specific first."""
    user_id = _check_user_id(claims.user_id)
    found = [(IdentityKind.EXTERNAL, user_id)]
    if claims.email:
        found.append((IdentityKind.EMAIL, identities.normalize(IdentityKind.EMAIL, claims.email)))
    if claims.phone:
        found.append((IdentityKind.PHONE, identities.normalize(IdentityKind.PHONE, claims.phone,
                                                               region=channel.workspace.default_region)))
    return found


def _check_user_id(user_id: Any) -> str:
    if not isinstance(user_id, str | int) or not str(user_id).strip() or len(str(user_id)) > 255:
        raise ValidationFailed(_("A user id is required."), code="invalid_user_id", field="user_id")
    return identities.check_text(str(user_id).strip(), field="user_id", max_length=255)


def _known_contact(channel: Channel, addresses: list[tuple[str, str]]) -> Contact | None:
    for kind, address in addresses:
        identity = ContactIdentity.objects.filter(workspace_id=channel.workspace_id, kind=kind,
                                                  address=address).select_related("contact").first()
        if identity is not None:
            return followed(identity.contact)
    return None


def do_identify(channel: Channel, visitor: Visitor, *, token: Any, email: str = "", name: str = "",
                legacy_hash: bool = False) -> tuple[Visitor, str]:
    """Link the visitor to the web app's signed-in user, as its identity token says; returns the visitor
    and, when a new visitor had to be started (another user signs in on the same browser), its token.

    With a valid token the identities in it are attested: the visitor joins the contact that has the user id
    (or the token's email or phone), or their own anonymous contact gains them; their messages are then
    sent as that verified identity until the token expires. A forged, expired or over-long token raises
    PermissionDenied and changes nothing. `email` and `name` passed beside the token are not signed: when
    the channel does not require verification and no token came, they are only kept as details (as the
    pre-chat form would), never used to find or link a contact. The retired `user_hash` is refused.
    """
    if legacy_hash and not token:
        raise PermissionDenied(_("Identify with a signed identity token; user_hash is no longer accepted."),
                               code="identity_token_required")
    claims = check_identity(channel, token)
    if claims is None:
        return do_leave_details(visitor, email=email, name=name), ""
    addresses = _verified_addresses(channel, claims)
    user_id = addresses[0][1]
    name = identities.check_text((claims.name or "").strip(), field="name", max_length=300)
    new_token = ""
    if visitor.verified and visitor.user_id != user_id:  # someone else signs in on this browser
        visitor, new_token = do_start_visitor(channel, locale=visitor.locale, page_url=visitor.page_url)
    current = None if visitor.verified else contact_of(visitor)  # only the visitor's own, anonymous contact
    contact = _known_contact(channel, addresses) or current
    if contact is None:
        kind, address = next(((k, a) for k, a in addresses if k == IdentityKind.EMAIL), addresses[0])
        contact = resolve_sender(channel.workspace, kind, address, name=name, verified=True,
                                 source="webchat").contact
    # An address the token names that another contact already has stays theirs (an agent may merge).
    linked = {kind: address for kind, address in addresses if _attach(contact, kind, address, verified=True)}
    if name and not contact.name:
        do_update_contact(contact, name=name)
    verified_email = linked.get(IdentityKind.EMAIL, "")
    visitor.contact, visitor.user_id, visitor.verified = contact, user_id, True
    visitor.identified_until = claims.expires_at
    visitor.verified_email = verified_email
    visitor.email, visitor.name = verified_email or visitor.email, name or visitor.name
    visitor.last_seen_at = now()
    visitor.save()
    publish(VisitorIdentified(workspace_id=channel.workspace_id, channel_id=channel.pk, contact_id=contact.pk,
                              user_id=user_id))
    return visitor, new_token


def do_leave_details(visitor: Visitor, *, email: str = "", name: str = "") -> Visitor:
    """The pre-chat or offline form: a name, and an email replies go to while the visitor is away.

    Nothing here is signed, so nothing here links or finds a contact: the email is kept on the visitor (the
    reply-to address) and as the `unverified_email` attribute of the visitor's own contact, never as an
    identity (an identity would make that address's mail land in this visitor's contact, and show in
    their widget).
    """
    if email:
        email = identities.normalize(IdentityKind.EMAIL, email)
        visitor.email = email
    if name:
        visitor.name = identities.check_text(name.strip(), field="name", max_length=300)
    visitor.save(update_fields=["email", "name", "updated_at"])
    contact = contact_of(visitor)
    if contact is not None:
        _keep_details(contact, visitor)
    return visitor


def _keep_details(contact: Contact, visitor: Visitor) -> None:
    if visitor.email and visitor.email != visitor.verified_email \
            and contact.attributes.get(UNVERIFIED_EMAIL) != visitor.email:
        do_update_contact(contact, attributes={**contact.attributes, UNVERIFIED_EMAIL: visitor.email})
    if visitor.name and not contact.name:
        do_update_contact(contact, name=visitor.name)


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
    """The identity a visitor writes as: the token's email or user id while identified, else the visitor id
    (never an email they typed)."""
    check_identity_current(visitor)
    if visitor.verified and visitor.verified_email:
        return IdentityKind.EMAIL, visitor.verified_email, True
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


def check_choice(choice: Any) -> str:
    """A button the visitor pressed under a bot message: its id, or "" (none)."""
    if choice in (None, ""):
        return ""
    if not isinstance(choice, str) or not CHOICE.match(choice):
        raise ValidationFailed(_("The choice is not valid."), code="invalid_choice", field="choice")
    return choice


def do_receive_visitor_message(channel: Channel, visitor: Visitor, *, client_id: Any, text: Any,
                               attachments: tuple[InboundAttachment, ...] = (), choice: Any = None) -> Message:
    """Store a visitor's message once per (visitor, client id); a retry returns the stored message.

    The raw message is kept as an InboundEvent (processed) for audit and replay, like every channel's input.
    A pressed button (`choice`, its id) travels as `metadata["choice"]`, its label as the text.
    """
    client_id, text = check_message(client_id, text, attachments)
    choice = check_choice(choice)
    key = f"{visitor.visitor_id}:{client_id}"
    existing = Message.objects.filter(channel=channel, provider_message_id=key).first()
    if existing is not None:
        return existing
    kind, address, verified = sender_of(visitor)
    body = {"visitor_id": visitor.visitor_id, "client_id": client_id, "text": text,
            "sender": {"kind": kind, "address": address, "name": visitor.name, "verified": verified},
            "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": len(a.content)}
                            for a in attachments],
            "page_url": visitor.page_url, **({"choice": choice} if choice else {})}
    InboundEvent.objects.get_or_create(
        channel=channel, idempotency_key=key[:255],
        defaults={"workspace_id": channel.workspace_id, "body": json.dumps(body, ensure_ascii=False).encode(),
                  "headers": {}, "state": InboundEvent.State.PROCESSED, "processed_at": now()},
    )
    note_event_received(channel)
    message = receive_inbound_message(channel, InboundMessage(
        provider_message_id=key, sender_kind=kind, sender_address=address, sender_name=visitor.name,
        sender_verified=verified, text=text, attachments=attachments,
        metadata={"visitor_id": visitor.visitor_id, "page_url": visitor.page_url[:500],
                  **({"choice": choice} if choice else {})},
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
    _keep_details(contact, visitor)


def do_record_receipt(channel: Channel, visitor: Visitor, *, status: Any, up_to: Any) -> int:
    """The widget showed (`delivered`) or the visitor saw (`read`) agents' messages up to `up_to`."""
    if status not in (DeliveryStatus.DELIVERED, DeliveryStatus.READ) or not isinstance(up_to, int):
        raise ValidationFailed(_("Unknown receipt."), code="invalid_receipt")
    contact = contact_of(visitor)
    if contact is None:
        return 0
    before = [DeliveryStatus.SENT] if status == DeliveryStatus.DELIVERED else [DeliveryStatus.SENT,
                                                                              DeliveryStatus.DELIVERED]
    outbound = Message.objects.filter(conversation__contact=contact, channel=channel, direction=Direction.OUTBOUND,
                                      is_note=False, pk__lte=up_to)
    # a reply reaches the widget inside its send job, before that job records `sent`: one still `queued` whose
    # send has begun is covered too (the job then keeps the further status, channels/outbound.py)
    pending = outbound.filter(Q(status__in=before) | Q(status=DeliveryStatus.QUEUED, delivery__attempts__gt=0))
    count = 0
    for message in pending.order_by("pk")[:200]:
        count += do_advance_status(message, status)
    return count
