"""Writes for contacts and identities. Callers own the transaction.

Identity resolution links automatically only on attested identifiers (DESIGN §7): the same normalized
address, or a phone number seen on both SMS/voice and WhatsApp (the provider attests the number). Anything
weaker becomes a `MergeSuggestion` with its reasons, left to an agent.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from threadline.contacts import identities
from threadline.contacts.events import ContactCreated, ContactUpdated, IdentityLinked
from threadline.contacts.models import Contact, ContactIdentity, IdentityKind
from threadline.core.errors import Conflict, ValidationFailed
from threadline.events.bus import publish
from threadline.tenancy.models import Workspace

EDITABLE_FIELDS = ("name", "language", "time_zone", "country", "preferred_channel", "attributes", "consent")


@dataclass(frozen=True)
class ResolvedSender:
    contact: Contact
    identity: ContactIdentity
    created_contact: bool


def _attested_twin(workspace: Workspace, kind: str, address: str) -> ContactIdentity | None:
    """An identity of another kind that the provider attests is the same address (phone ↔ WhatsApp)."""
    if kind not in identities.PHONE_KINDS:
        return None
    return (
        ContactIdentity.objects.filter(workspace=workspace, kind__in=identities.PHONE_KINDS, address=address)
        .exclude(kind=kind)
        .select_related("contact")
        .first()
    )


def do_create_contact(workspace: Workspace, *, name: str = "", **fields: object) -> Contact:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown contact fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    contact = Contact.objects.create(workspace=workspace, name=name.strip()[:300], **fields)
    publish(ContactCreated(workspace_id=workspace.pk, contact_id=contact.pk, name=contact.name))
    return contact


def do_update_contact(contact: Contact, **fields: object) -> Contact:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown contact fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    changes = {k: v for k, v in fields.items() if getattr(contact, k) != v}
    for key, value in changes.items():
        setattr(contact, key, value)
    if changes:
        contact.save()
        publish(ContactUpdated(workspace_id=contact.workspace_id, contact_id=contact.pk, changes=changes))
    return contact


def do_add_identity(
    contact: Contact, kind: str, address: str, *, verified: bool = False, source: str = "agent",
    display_name: str = "",
) -> ContactIdentity:
    """Attach an identity to `contact`; Conflict when another contact already has it."""
    workspace = contact.workspace
    normalized = identities.normalize(kind, address, region=workspace.default_region)
    existing = ContactIdentity.objects.filter(workspace=workspace, kind=kind, address=normalized).first()
    if existing is not None:
        if existing.contact_id == contact.pk:
            return existing
        raise Conflict(
            _("This identity belongs to another contact; merge the two contacts instead."),
            code="identity_taken",
        )
    try:
        with transaction.atomic():
            identity = ContactIdentity.objects.create(
                workspace=workspace, contact=contact, kind=kind, address=normalized, verified=verified,
                source=source, display_name=display_name[:300],
            )
    except IntegrityError as exc:
        raise Conflict(_("This identity was just added to another contact."), code="identity_taken") from exc
    publish(IdentityLinked(workspace_id=workspace.pk, contact_id=contact.pk, identity_id=identity.pk,
                           kind=kind, address=normalized, reason=source))
    return identity


def do_remove_identity(identity: ContactIdentity) -> None:
    identity.delete()


def resolve_sender(
    workspace: Workspace, kind: str, address: str, *, name: str = "", verified: bool = False, source: str = "",
) -> ResolvedSender:
    """The contact and identity behind an inbound sender, creating them when new.

    Links automatically only on attested identifiers; otherwise a new contact is created and merge
    suggestions are recorded for agents (see `suggestions.suggest_for`).
    """
    from threadline.contacts.suggestions import suggest_for

    normalized = identities.normalize(kind, address, region=workspace.default_region)
    identity = (
        ContactIdentity.objects.filter(workspace=workspace, kind=kind, address=normalized)
        .select_related("contact")
        .first()
    )
    if identity is not None:
        if verified and not identity.verified:
            identity.verified = True
            identity.save(update_fields=["verified", "updated_at"])
        return ResolvedSender(identity.contact, identity, False)

    twin = _attested_twin(workspace, kind, normalized)
    created = twin is None
    contact = twin.contact if twin is not None else do_create_contact(workspace, name=name)
    identity = ContactIdentity.objects.create(
        workspace=workspace, contact=contact, kind=kind, address=normalized, verified=verified,
        source=source or kind, display_name=name[:300],
    )
    reason = f"same phone number as {twin.kind} identity" if twin is not None else "first message"
    publish(IdentityLinked(workspace_id=workspace.pk, contact_id=contact.pk, identity_id=identity.pk,
                           kind=kind, address=normalized, reason=reason))
    if created:
        suggest_for(contact)
    return ResolvedSender(contact, identity, created)


__all__ = [
    "ResolvedSender", "do_add_identity", "do_create_contact", "do_remove_identity", "do_update_contact",
    "resolve_sender", "IdentityKind",
]
