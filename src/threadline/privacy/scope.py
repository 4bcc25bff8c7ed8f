"""Everything one contact's data-subject request covers: the contact and the contacts merged into it, their
identities, conversations, messages and attachments, and the strings that identify them (their addresses)
for finding copies the database does not link (raw payloads, event payloads, job arguments).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Model, Q, QuerySet

from threadline.channels.models import InboundEvent
from threadline.contacts.models import Contact, ContactIdentity
from threadline.conversations.models import Attachment, Conversation, Message
from threadline.core import crypto

# Rows of channel kinds and surveys that hold a contact's data, found by app label (the kinds are optional apps
# and this domain does not import them): (app label, model, field pointing at the contact, field holding an
# address).
KIND_ROWS: list[tuple[str, str, str | None, str | None]] = [
    ("webchat", "Visitor", "contact", None),
    ("webchat", "VisitorEvent", "contact", None),
    ("email_channel", "EmailParticipant", None, "address"),
    ("consent", "ConsentRecord", None, "address"),
    ("community", "SignInLink", None, "email"),
    ("community", "CommunityMember", "contact", None),  # with their topics, posts, votes, reports, follows
    ("surveys", "SurveyRequest", "contact", None),
    ("surveys", "SurveyResponse", "contact", None),  # scores and the customer's comments
]
MIN_NEEDLE = 5  # shorter addresses would match unrelated bytes


def contact_ref(workspace_id: int, contact_id: int) -> str:
    """A keyed hash naming a contact without the contact: what the audit tombstone keeps."""
    return crypto.hmac_sha256_hex(settings.SECRET_KEY, f"contact:{workspace_id}:{contact_id}".encode())


@dataclass
class Scope:
    workspace_id: int
    contact_ids: list[int]
    identity_ids: list[int]
    addresses: list[str]
    conversation_ids: list[int]
    message_ids: list[int]
    needles: list[str] = field(default_factory=list)

    def contacts(self) -> QuerySet[Contact]:
        return Contact.objects.filter(pk__in=self.contact_ids).order_by("pk")

    def identities(self) -> QuerySet[ContactIdentity]:
        return ContactIdentity.objects.filter(pk__in=self.identity_ids).order_by("pk")

    def conversations(self) -> QuerySet[Conversation]:
        return Conversation.objects.filter(pk__in=self.conversation_ids).order_by("pk")

    def messages(self) -> QuerySet[Message]:
        return Message.objects.filter(pk__in=self.message_ids).order_by("pk")

    def attachments(self) -> QuerySet[Attachment]:
        return Attachment.objects.filter(message_id__in=self.message_ids).order_by("pk")

    def inbound_events(self) -> list[int]:
        """Raw payloads: those processing linked to the contact, and those it linked to nobody (failed, ignored,
        stored before links were kept) that name one of their addresses."""
        linked = set(InboundEvent.objects.filter(contacts__in=self.contact_ids).values_list("pk", flat=True))
        rows = InboundEvent.objects.filter(workspace_id=self.workspace_id, contacts__isnull=True)
        return sorted(linked | {pk for pk, body in rows.values_list("pk", "body").iterator(chunk_size=200)
                                if self.mentioned_in(bytes(body))})

    def kind_rows(self) -> list[tuple[str, QuerySet[Model]]]:
        """(label, rows) of the channel kinds' tables that hold this contact's data."""
        found = []
        for app_label, model_name, contact_field, address_field in KIND_ROWS:
            try:
                model = apps.get_model(app_label, model_name)
            except LookupError:
                continue
            match = Q(workspace_id=self.workspace_id) & (
                Q(**{f"{contact_field}__in": self.contact_ids}) if contact_field
                else Q(**{f"{address_field}__in": self.addresses}))
            found.append((f"{app_label}.{model_name}", model.objects.filter(match).order_by("pk")))
        return found

    def mentioned_in(self, blob: bytes | str) -> bool:
        """Does `blob` hold one of the contact's addresses (as text or as JSON-escaped text)?"""
        text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
        lowered = text.lower()
        return any(needle in lowered for needle in self.needles)


def _merged_family(contact: Contact) -> list[int]:
    """The contact and every contact merged into it, at any depth."""
    family, frontier = {contact.pk}, [contact.pk]
    while frontier:
        frontier = [pk for pk in Contact.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)
                    if pk not in family]
        family.update(frontier)
    return sorted(family)


def _needles(addresses: list[str]) -> list[str]:
    """What to look for in unlinked copies: the addresses (names are too common to search by)."""
    found: set[str] = set()
    for value in addresses:
        value = (value or "").strip().lower()
        if len(value) >= MIN_NEEDLE:
            found.add(value)
            escaped = json.dumps(value)[1:-1].lower()  # how a JSON payload spells non-ASCII text
            found.add(escaped)
            if value.startswith("+"):
                found.add(value[1:])  # phone numbers appear without the plus in many payloads
    return sorted(found)


def scope_of(contact: Contact) -> Scope:
    contact_ids = _merged_family(contact)
    identities = list(ContactIdentity.objects.filter(contact_id__in=contact_ids).values("pk", "address"))
    conversation_ids = sorted(Conversation.objects.filter(contact_id__in=contact_ids).values_list("pk", flat=True))
    message_ids = sorted(Message.objects.filter(Q(conversation_id__in=conversation_ids)
                                                | Q(author_contact_id__in=contact_ids)).values_list("pk", flat=True))
    addresses = sorted({i["address"] for i in identities})
    return Scope(workspace_id=contact.workspace_id, contact_ids=contact_ids,
                 identity_ids=sorted(i["pk"] for i in identities), addresses=addresses,
                 conversation_ids=conversation_ids, message_ids=message_ids, needles=_needles(addresses))


def as_data(row: Model, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """A row's concrete fields as JSON-ready values (foreign keys as ids)."""
    data: dict[str, Any] = {}
    for f in row._meta.concrete_fields:  # noqa: SLF001 - Django's public model metadata
        if f.attname in exclude or f.name in exclude:
            continue
        value = getattr(row, f.attname)
        data[f.attname] = value.isoformat() if hasattr(value, "isoformat") else (
            bytes(value).decode("utf-8", "replace") if isinstance(value, bytes | memoryview) else value)
    return data
