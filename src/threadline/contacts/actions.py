"""Writes for contacts and identities. Callers own the transaction.

Identity resolution links automatically only on attested identifiers (docs/identity.md): the same normalized
address, or a phone number seen on both SMS/voice and WhatsApp (the provider attests the number). Anything
weaker becomes a `MergeSuggestion` with its reasons, left to an agent (see `suggestions.py`). Merging and
unmerging contacts live in `merge.py`. See docs/identity.md.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from threadline.contacts import identities
from threadline.contacts.custom_fields import merged_values
from threadline.contacts.events import (
    ContactCreated,
    ContactDeleted,
    ContactUpdated,
    IdentityLinked,
    IdentityRemoved,
)
from threadline.contacts.models import Contact, ContactIdentity, ContactMerge, CustomField, IdentityKind
from threadline.core.batch_rows import keep, keep_all
from threadline.core.errors import Conflict, ValidationFailed
from threadline.core.prepared import Prepared
from threadline.core.row_writes import create
from threadline.events.bus import publish
from threadline.tenancy.models import Membership, Workspace
from threadline.tenancy.permissions import Permission, require

EDITABLE_FIELDS = ("name", "language", "time_zone", "country", "preferred_channel", "attributes", "consent")
MAX_JSON_FIELD = 16_000
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")
_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_IDENTITY = Prepared(lambda workspace_id, kind, address: ContactIdentity.objects.filter(  # unique together
    workspace_id=workspace_id, kind=kind, address=address).select_related("contact"))


@dataclass(frozen=True)
class ResolvedSender:
    contact: Contact
    identity: ContactIdentity
    created_contact: bool


# ── checks ───────────────────────────────────────────────────────────────────────────────────────────
def _check_json(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationFailed(_("%(field)s must be an object.") % {"field": field}, code="invalid_field", field=field)
    try:
        encoded = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("%(field)s is not JSON.") % {"field": field}, code="invalid_field",
                               field=field) from exc
    # PostgreSQL's jsonb refuses NUL characters; the check also bounds the size.
    identities.check_text(encoded, field=field, max_length=MAX_JSON_FIELD)
    if "\\u0000" in encoded:
        raise ValidationFailed(_("%(field)s contains control characters.") % {"field": field},
                               code="invalid_text", field=field)
    return value


def check_contact_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Validated, cleaned contact fields; ValidationFailed naming the first bad one."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown contact fields: %(f)s") % {"f": ", ".join(sorted(unknown))},
                               code="invalid_field")
    clean: dict[str, Any] = {}
    for key, value in fields.items():
        if key in ("attributes", "consent"):
            clean[key] = _check_json(value, key)
            if key == "consent" and not all(isinstance(v, bool) for v in value.values()):
                raise ValidationFailed(_("Consent flags must be true or false."), code="invalid_field", field=key)
            continue
        if not isinstance(value, str):
            raise ValidationFailed(_("%(field)s must be text.") % {"field": key}, code="invalid_field", field=key)
        value = identities.check_text(value, field=key, max_length=300).strip()
        if key == "language" and value and not (len(value) <= 16 and _LANGUAGE.match(value)):
            raise ValidationFailed(_("%(v)s is not a language code.") % {"v": value}, code="invalid_language",
                                   field=key)
        if key == "time_zone" and value:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise ValidationFailed(_("%(v)s is not a time zone.") % {"v": value}, code="invalid_time_zone",
                                       field=key) from exc
        if key == "country" and value:
            value = value.upper()
            if value not in phonenumbers.SUPPORTED_REGIONS:
                raise ValidationFailed(_("%(v)s is not a country code.") % {"v": value}, code="invalid_country",
                                       field=key)
        if key == "preferred_channel" and value and not _CHANNEL.match(value):
            raise ValidationFailed(_("%(v)s is not a channel kind.") % {"v": value}, code="invalid_channel",
                                   field=key)
        clean[key] = value
    return clean


def check_contact_writable(actor: Membership | None, contact: Contact) -> None:
    """Full agents only (light agents only add notes), and never a contact merged into another one."""
    if actor is not None:
        require(actor, Permission.CONTACTS_EDIT)
    if contact.merged_into_id:
        raise Conflict(_("This contact was merged into another one; change that contact instead."),
                       code="contact_merged")


def check_contact_deletable(contact: Contact) -> None:
    """A contact with a history (conversations, messages it wrote, a merge) is kept; merge it instead."""
    from threadline.conversations.models import Conversation, Message

    if Conversation.objects.filter(contact=contact).exists() or Message.objects.filter(author_contact=contact).exists():
        raise Conflict(_("This contact has conversations; it cannot be deleted."), code="contact_has_conversations")
    if (ContactMerge.objects.filter(source=contact).exists() or ContactMerge.objects.filter(target=contact).exists()
            or contact.merged_into_id):
        raise Conflict(_("This contact is part of a merge record; it cannot be deleted."), code="contact_merged")


# ── contacts ─────────────────────────────────────────────────────────────────────────────────────────
def do_create_contact(
    workspace: Workspace, *, name: str = "", actor: Membership | None = None, **fields: Any
) -> Contact:
    """A new contact of `workspace` (no identity yet); publishes `contact.created`."""
    if actor is not None:
        require(actor, Permission.CONTACTS_EDIT)
    clean = check_contact_fields({"name": name[:300], **fields})
    contact = create(Contact, workspace=workspace, name_key=identities.name_key(clean["name"]), **clean)
    publish(ContactCreated(workspace_id=workspace.pk, contact_id=contact.pk, name=contact.name))
    return contact


def do_register_contact(
    actor: Membership, *, identities_in: list[dict[str, Any]] | None = None, **fields: Any
) -> Contact:
    """An agent's new contact with its identities, all or none (each `{"kind", "address", "verified",
    "display_name"}`, normalized strictly); merge suggestions are recorded once, at the end."""
    from threadline.contacts.suggestions import suggest_for

    contact = do_create_contact(actor.workspace, actor=actor, **fields)
    for item in identities_in or []:
        do_add_identity(contact, item["kind"], item["address"], verified=bool(item.get("verified")),
                        display_name=item.get("display_name", ""), actor=actor, strict=True, suggest=False)
    suggest_for(contact)
    return contact


def do_update_contact(contact: Contact, *, actor: Membership | None = None, **fields: Any) -> Contact:
    """Change editable fields; only real changes are saved and published (`contact.updated`)."""
    check_contact_writable(actor, contact)
    clean = check_contact_fields(fields)
    if "attributes" in clean:  # the workspace's custom contact fields among them are checked by type
        clean["attributes"] = merged_values(contact.workspace_id, CustomField.AppliesTo.CONTACT, {},
                                            clean["attributes"], defined_only=False)
    changes = {k: v for k, v in clean.items() if getattr(contact, k) != v}
    for key, value in changes.items():
        setattr(contact, key, value)
    if changes:
        contact.name_key = identities.name_key(contact.name)
        contact.save()
        publish(ContactUpdated(workspace_id=contact.workspace_id, contact_id=contact.pk, changes=changes))
    return contact


def do_delete_contact(actor: Membership, contact: Contact) -> None:
    """Delete a contact without history, with its identities and suggestions."""
    require(actor, Permission.CONTACTS_EDIT)
    check_contact_deletable(contact)
    contact_id = contact.pk
    try:
        with transaction.atomic():
            contact.delete()
    except (ProtectedError, RestrictedError) as exc:  # a row of another domain still needs it
        raise Conflict(_("Other records still refer to this contact; it cannot be deleted."),
                       code="contact_in_use") from exc
    publish(ContactDeleted(workspace_id=actor.workspace_id, contact_id=contact_id, actor_id=actor.pk))


# ── identities ───────────────────────────────────────────────────────────────────────────────────────
def _create_identity(
    contact: Contact, kind: str, address: str, *, verified: bool, source: str, display_name: str, reason: str,
) -> ContactIdentity:
    identity = create(
        ContactIdentity, workspace_id=contact.workspace_id, contact=contact, kind=kind, address=address, verified=verified,
        source=source[:64], display_name=display_name[:300], match_key=identities.match_key(kind, address),
    )
    publish(IdentityLinked(workspace_id=contact.workspace_id, contact_id=contact.pk, identity_id=identity.pk,
                           kind=kind, address=address, reason=reason))
    return identity


def do_add_identity(
    contact: Contact, kind: str, address: str, *, verified: bool = False, source: str = "agent",
    display_name: str = "", actor: Membership | None = None, strict: bool = False, suggest: bool = True,
) -> ContactIdentity:
    """Attach an identity to `contact` (normalized); Conflict `identity_taken` when another contact has it.

    Adding an address the contact already has returns it unchanged. New merge suggestions the identity
    brings (another contact with the same phone digits, say) are recorded. `strict` (agents' input) also
    rejects phone numbers outside assigned ranges.
    """
    from threadline.contacts.suggestions import suggest_for

    check_contact_writable(actor, contact)
    identities.check_text(display_name, field="display_name", max_length=300)
    normalized = identities.normalize(kind, address, region=contact.workspace.default_region, strict=strict)
    existing = ContactIdentity.objects.filter(workspace_id=contact.workspace_id, kind=kind, address=normalized).first()
    if existing is not None:
        if existing.contact_id == contact.pk:
            return existing
        raise Conflict(
            _("This identity belongs to another contact; merge the two contacts instead."),
            code="identity_taken",
        )
    try:
        with transaction.atomic():
            identity = _create_identity(contact, kind, normalized, verified=verified, source=source,
                                        display_name=display_name.strip(), reason=source)
    except IntegrityError as exc:
        raise Conflict(_("This identity was just added to another contact."), code="identity_taken") from exc
    if suggest:
        suggest_for(contact)
    return identity


def do_remove_identity(identity: ContactIdentity, *, actor: Membership | None = None) -> None:
    """Detach an identity; messages written from it keep their text but no longer name it."""
    check_contact_writable(actor, identity.contact)
    identity_id = identity.pk
    identity.delete()
    publish(IdentityRemoved(workspace_id=identity.workspace_id, contact_id=identity.contact_id,
                            identity_id=identity_id, kind=identity.kind, address=identity.address))


def _attested_twin(workspace: Workspace, kind: str, address: str) -> ContactIdentity | None:
    """An identity of another kind that the provider attests is the same address (phone ↔ WhatsApp)."""
    if kind not in identities.PHONE_KINDS:
        return None
    return (
        ContactIdentity.objects.filter(workspace=workspace, kind__in=identities.PHONE_KINDS, address=address,
                                       contact__merged_into__isnull=True)
        .exclude(kind=kind)
        .select_related("contact")
        .order_by("id")
        .first()
    )


def resolve_sender(
    workspace: Workspace, kind: str, address: str, *, name: str = "", verified: bool = False, source: str = "",
) -> ResolvedSender:
    """The contact and identity behind an inbound sender, creating them when new.

    Links automatically only on attested identifiers: the same normalized address of the same kind, or a
    phone number already known on SMS/voice or WhatsApp. Otherwise a new contact is created and merge
    suggestions are recorded for agents (`suggestions.suggest_for`); nothing is ever merged here.
    """
    from threadline.contacts.suggestions import suggest_for

    # The provider vouches for the sender: kept as given when no phone library agrees (see `normalize`).
    normalized = identities.normalize(kind, address, region=workspace.default_region, vouched=True)
    identity = _IDENTITY.one(workspace.pk, kind, normalized)
    if identity is not None:
        if verified and not identity.verified:
            identity.verified = True
            identity.save(update_fields=["verified", "updated_at"])
        return ResolvedSender(identity.contact, identity, False)

    twin = _attested_twin(workspace, kind, normalized)
    created = twin is None
    contact = twin.contact if twin is not None else do_create_contact(workspace, name=_sender_name(name))
    reason = f"same phone number as {twin.kind} identity" if twin is not None else "first message"
    # A concurrent insert of the same identity fails here (unique constraint): the caller's transaction
    # rolls back and the inbound job is retried, and then finds the identity.
    identity = _create_identity(contact, kind, normalized, verified=verified, source=source or kind,
                                display_name=_sender_name(name), reason=reason)
    if created:
        keep(contact)  # a new contact's row and its one identity, for its events' subscribers (core.batch_rows)
        keep_all(ContactIdentity, "contact_id", contact.pk, [identity])
        suggest_for(contact)
    return ResolvedSender(contact, identity, created)


def _sender_name(name: str) -> str:
    """A provider's display name, made safe to store (control characters dropped, bounded)."""
    return "".join(c for c in (name or "") if unicodedata.category(c) not in ("Cc", "Cs")).strip()[:300]


__all__ = [
    "ResolvedSender", "check_contact_deletable", "check_contact_fields", "check_contact_writable",
    "do_add_identity", "do_create_contact", "do_delete_contact", "do_register_contact", "do_remove_identity", "do_update_contact",
    "resolve_sender", "IdentityKind",
]
