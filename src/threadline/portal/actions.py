"""Writes for the customer portal: a customer's request or reply from the portal or a public web form.

Every such message takes the normal inbound pipeline of the workspace's `portal` channel (created on
demand): `do_submit_request` stores an `InboundEvent` (the submission as JSON) with its processing job in the
caller's transaction and returns the event; once that commits, the worker turns it into a message
(`channels/portal/adapter.py` → `receive_inbound_message`), so nothing the customer was told "received" is
lost. The message is then `queries.message_of(event)`.

Who wrote it: a signed-in portal customer (`contact`) writes as a verified identity of their contact. An
email typed in a public form proves nothing, so it never finds an existing contact: it is the sender's
`external` identity `portal:<email>` (one pseudo-contact per typed address, the address kept as the
contact's `unverified_email` attribute), and a merge suggestion pairs that contact with a contact that has
the address as an identity; an agent decides (`prepare_sender`).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.utils.translation import gettext as _

from threadline.channels.actions import check_config
from threadline.channels.inbound import accept_inbound
from threadline.channels.models import Channel, InboundEvent
from threadline.contacts import identities
from threadline.contacts.actions import do_add_identity, do_create_contact
from threadline.contacts.models import Contact, ContactIdentity, IdentityKind
from threadline.contacts.suggestions import suggest_for
from threadline.conversations.attachments import check_attachment
from threadline.conversations.models import Conversation
from threadline.core import crypto
from threadline.core.errors import Conflict, ValidationFailed
from threadline.portal.queries import PSEUDO_PREFIX, followed, portal_channel
from threadline.tenancy.models import Brand, Workspace

PORTAL = "portal"
SOURCES = ("help_center", "article_feedback", "community", "portal")
UNVERIFIED_EMAIL = "unverified_email"  # the contact attribute keeping it (the web chat's name for the same)
MAX_TEXT = 20_000
MAX_SUBJECT = 300
MAX_FILES = 10
# Preference among a signed-in contact's identities for the sender of their portal messages.
SENDER_KINDS = (IdentityKind.EMAIL, IdentityKind.PHONE, IdentityKind.WHATSAPP, IdentityKind.EXTERNAL)


def do_ensure_portal_channel(workspace: Workspace) -> Channel:
    """The workspace's portal channel, created the first time a customer writes through the portal."""
    channel = portal_channel(workspace.pk)
    if channel is None:
        channel = Channel.objects.create(
            workspace=workspace, kind=PORTAL, name=_("Customer portal"),
            config_encrypted=crypto.encrypt_json(check_config(PORTAL, {})),
        )
    return channel


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise ValidationFailed(_("Unknown request source."), code="invalid_source", field="source")
    return source


def check_files(files: Iterable[Any]) -> list[dict[str, str]]:
    """Uploaded files (Django `UploadedFile`s or `(filename, content_type, bytes)` tuples), checked for size
    and type as every attachment is, as the JSON the submission carries."""
    items = list(files or ())
    if len(items) > MAX_FILES:
        raise ValidationFailed(_("At most %(n)d files can be attached.") % {"n": MAX_FILES},
                               code="too_many_attachments", field="files")
    checked = []
    total = 0
    for item in items:
        if isinstance(item, tuple):
            filename, content_type, content = item
        else:
            filename, content_type = getattr(item, "name", "") or "", getattr(item, "content_type", "") or ""
            if item.size > settings.THREADLINE["ATTACHMENT_MAX_BYTES"]:  # refused before it is read
                check_attachment(filename, content_type, item.size)
            content = item.read()
        name, ctype = check_attachment(filename, content_type, len(content))
        total += len(content)
        if total > settings.THREADLINE["ATTACHMENT_MAX_BYTES"]:
            raise ValidationFailed(_("The files together are too large."), code="attachment_too_large",
                                   field="files")
        checked.append({"filename": name, "content_type": ctype,
                        "content_base64": base64.b64encode(content).decode()})
    return checked


def _check_text(text: str, files: list[dict[str, str]]) -> str:
    text = identities.check_text((text or "").strip(), field="text", max_length=MAX_TEXT)
    if not text and not files:
        raise ValidationFailed(_("Write a message."), code="empty_message", field="text")
    return text


def do_submit_request(
    *, workspace: Workspace, brand: Brand | None = None, email: str, name: str = "", subject: str, text: str,
    source: str, files: Iterable[Any] = (), contact: Contact | None = None,
) -> InboundEvent:
    """Store a customer's message from the portal or a public web form; the caller owns the transaction.

    Returns the `InboundEvent` holding it (committed with the caller's transaction, processed by the worker
    after it): the message exists once the worker ran (`queries.message_of(event)`). `contact` is a
    signed-in portal customer (their message goes to their contact); without it, `email` (required then) is
    an unverified address (see the module's docstring). `source` is one of SOURCES.
    """
    return submit(workspace=workspace, brand=brand, email=email, name=name, subject=subject, text=text,
                  source=source, files=files, contact=contact)


def submit(
    *, workspace: Workspace, email: str, subject: str, text: str, source: str, brand: Brand | None = None,
    name: str = "", files: Iterable[Any] = (), contact: Contact | None = None,
    conversation: Conversation | None = None,
) -> InboundEvent:
    """`do_submit_request`, and a signed-in customer's reply on one of their conversations (`conversation`)."""
    check_source(source)
    if brand is not None and brand.workspace_id != workspace.pk:
        raise ValidationFailed(_("Unknown brand."), code="invalid_brand", field="brand")
    if contact is not None and contact.workspace_id != workspace.pk:
        raise ValidationFailed(_("Unknown contact."), code="invalid_contact", field="contact")
    checked = check_files(files)
    document: dict[str, Any] = {
        "version": 1, "submission_id": uuid.uuid4().hex, "source": source,
        "brand_id": brand.pk if brand else None,
        "subject": " ".join(identities.check_text(subject or "", field="subject", max_length=MAX_SUBJECT).split()),
        "text": _check_text(text, checked),
        "name": identities.check_text((name or "").strip(), field="name", max_length=300),
        "contact_id": contact.pk if contact is not None else None,
        "conversation_id": conversation.pk if conversation is not None else None,
        "email": "",
        "attachments": checked,
    }
    if contact is None:
        if not (email or "").strip():
            raise ValidationFailed(_("Enter your email address."), code="email_required", field="email")
        document["email"] = identities.normalize(IdentityKind.EMAIL, email)
    elif email and email.strip():
        document["email"] = identities.normalize(IdentityKind.EMAIL, email)
    channel = do_ensure_portal_channel(workspace)
    body = json.dumps(document, ensure_ascii=False).encode()
    event, _created = accept_inbound(channel, document["submission_id"], body, {"x-portal-source": source},
                                     queue=False)  # saved now: the community keeps its id (ADR 0008)
    return event


# ── in the worker: who wrote it ──────────────────────────────────────────────────────────────────────
def _signed_in_sender(workspace_id: int, contact_id: int) -> ContactIdentity:
    contact = followed(Contact.objects.filter(pk=contact_id, workspace_id=workspace_id).first())
    if contact is None:
        raise ValidationFailed(_("The portal customer no longer exists."), code="contact_gone")
    found = list(ContactIdentity.objects.filter(contact=contact).order_by("-verified", "id"))
    for kind in SENDER_KINDS:
        for identity in found:
            if identity.kind == kind:
                return identity
    if found:
        return found[0]
    raise ValidationFailed(_("The portal customer has no identity to write as."), code="no_identity")


def do_prepare_pseudo_contact(workspace: Workspace, email: str, name: str) -> ContactIdentity:
    """The `portal:<email>` identity of an address typed in a public form, with its own contact the first
    time (the address as `unverified_email`), and merge suggestions with the contacts that have the address."""
    address = PSEUDO_PREFIX + email
    existing = ContactIdentity.objects.filter(workspace=workspace, kind=IdentityKind.EXTERNAL,
                                              address=address).first()
    if existing is not None:
        return existing
    contact = do_create_contact(workspace, name=name, attributes={UNVERIFIED_EMAIL: email})
    try:
        identity = do_add_identity(contact, IdentityKind.EXTERNAL, address, source=PORTAL, display_name=name,
                                   suggest=False)
    except Conflict as exc:
        if exc.code != "identity_taken":
            raise
        # Another submission with the same address (a feedback and a contact-us, processed by two workers at
        # once) created it meanwhile: as for resolve_sender's race, the job's transaction rolls back (this new
        # contact with it) and the inbound job runs again, and then finds the identity. Not "needs attention".
        raise IntegrityError(f"portal identity {address!r} created concurrently") from exc
    suggest_for(contact)
    return identity


def prepare_sender(channel: Channel, document: dict[str, Any]) -> tuple[str, str, bool]:
    """(kind, address, verified) of a submission's sender, created as needed (runs in the worker)."""
    if document.get("contact_id"):
        identity = _signed_in_sender(channel.workspace_id, int(document["contact_id"]))
        return identity.kind, identity.address, identity.verified
    email = document.get("email") or ""
    if not email:
        raise ValidationFailed(_("The submission names no sender."), code="no_sender")
    identity = do_prepare_pseudo_contact(channel.workspace, email, document.get("name") or "")
    return identity.kind, identity.address, False


__all__ = ["SOURCES", "check_files", "do_ensure_portal_channel", "do_submit_request", "prepare_sender", "submit"]
