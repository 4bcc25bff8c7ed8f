"""Everything one contact's data-subject request covers: the contact and the contacts merged into it (and the
portal's pseudo-contacts of their email addresses: what they wrote on a public form before the address was
proved), their identities, conversations, messages and attachments, the rows other domains keep about them
(`KIND_ROWS`), and the strings that identify them (their addresses) for finding copies the database does not
link (raw payloads, event payloads, job arguments).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Model, Q, QuerySet

from threadline.channels.models import InboundEvent
from threadline.contacts.models import Contact, ContactIdentity, IdentityKind
from threadline.conversations.models import Attachment, Conversation, Message
from threadline.core import crypto
from threadline.portal.queries import PSEUDO_PREFIX

# Rows other domains keep about a contact, found by app label (the channel kinds are optional apps and this
# domain imports none of these): (app label, model, how a row is found, the field to match). How: "contact"
# (a contact id), "identity" (an identity id), "conversation" (a conversation id), "address" (one of their
# addresses). Erasure deletes them (most would go by cascade too: listing them counts them in the tombstone and
# puts them in the export archive). Rows come before those whose deletion would cascade to them, so each count
# is its own.
KIND_ROWS: list[tuple[str, str, str, str]] = [
    ("webchat", "Visitor", "contact", "contact"),
    ("webchat", "VisitorEvent", "contact", "contact"),
    ("email_channel", "EmailParticipant", "address", "address"),
    ("consent", "ConsentRecord", "address", "address"),
    ("community", "SignInLink", "address", "email"),
    ("community", "Post", "contact", "author__contact"),
    ("community", "Topic", "contact", "author__contact"),
    ("community", "CommunityMember", "contact", "contact"),  # with their votes, reports, follows
    ("surveys", "SurveyResponse", "contact", "contact"),  # scores and comments
    ("surveys", "SurveyRequest", "contact", "contact"),
    ("bot", "BotSession", "conversation", "conversation"),  # the bot's part, an external platform's session
    ("portal", "SignInLink", "contact", "contact"),
    ("portal", "SignInCode", "identity", "identity"),
    ("portal", "PortalSession", "contact", "contact"),
    ("knowledge", "ArticleFeedback", "contact", "contact"),  # and the comments forwarded as their requests
    ("social", "PublicItem", "contact", "contact"),  # their public comments and mentions, with the actions on them
]
# Columns never copied into an export archive: secrets' digests and an external platform's encrypted session.
NOT_EXPORTED: dict[str, tuple[str, ...]] = {
    "portal.SignInLink": ("digest",), "portal.SignInCode": ("digest",), "portal.PortalSession": ("digest",),
    "community.SignInLink": ("digest",), "bot.BotSession": ("external_state_encrypted",),
}
PORTAL_KIND = "portal"  # the channel kind public forms write through (channels/portal/)
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
        """(label, rows) of the tables of other domains that hold this contact's data."""
        values = {"contact": self.contact_ids, "identity": self.identity_ids,
                  "conversation": self.conversation_ids, "address": self.addresses}
        found = []
        for app_label, model_name, how, field_name in KIND_ROWS:
            try:
                model = apps.get_model(app_label, model_name)
            except LookupError:
                continue
            match = Q(**{f"{field_name}__in": values[how]})
            if (app_label, model_name) == ("knowledge", "ArticleFeedback"):
                match |= Q(pk__in=self.forwarded_feedback())
            rows = model.objects.filter(Q(workspace_id=self.workspace_id) & match).order_by("pk")
            found.append((f"{app_label}.{model_name}", rows))
        return found

    def forwarded_feedback(self) -> list[int]:
        return forwarded_feedback(self.workspace_id, Message.objects.filter(
            pk__in=self.message_ids, author_contact_id__in=self.contact_ids))

    def mentioned_in(self, blob: bytes | str) -> bool:
        """Does `blob` hold one of the contact's addresses (as text or as JSON-escaped text)?"""
        text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
        lowered = text.lower()
        return any(needle in lowered for needle in self.needles)


def forwarded_feedback(workspace_id: int, messages: QuerySet[Message]) -> list[int]:
    """Anonymous article feedback whose comment the help center forwarded as one of `messages` ("Was this
    helpful? No", a comment and an email): such a request, on the portal channel, is the comment, a blank line
    and the article's address (which has no blank line; the comment may)."""
    comments = {text.rsplit("\n\n", 1)[0] for text in messages.filter(channel__kind=PORTAL_KIND)
                .values_list("text", flat=True).iterator(chunk_size=500) if "\n\n" in text}
    if not comments or not apps.is_installed("threadline.knowledge"):
        return []
    model = apps.get_model("knowledge", "ArticleFeedback")
    rows = model.objects.filter(workspace_id=workspace_id, contact__isnull=True).exclude(comment="")
    return [pk for pk, comment in rows.values_list("pk", "comment").iterator(chunk_size=500) if comment in comments]


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
        value = (value or "").strip().lower().removeprefix(PSEUDO_PREFIX)
        if len(value) >= MIN_NEEDLE:
            found.add(value)
            escaped = json.dumps(value)[1:-1].lower()  # how a JSON payload spells non-ASCII text
            found.add(escaped)
            if value.startswith("+"):
                found.add(value[1:])  # phone numbers appear without the plus in many payloads
    return sorted(found)


def _pseudo_contacts(workspace_id: int, contact_ids: list[int]) -> list[int]:
    """The portal's pseudo-contacts of these contacts' email addresses (someone typed the address in a public
    form; an agent may not have merged them yet), with the contacts merged into those."""
    emails = ContactIdentity.objects.filter(contact_id__in=contact_ids, kind=IdentityKind.EMAIL) \
        .values_list("address", flat=True)
    pseudo = set(ContactIdentity.objects.filter(
        workspace_id=workspace_id, kind=IdentityKind.EXTERNAL, address__in=[PSEUDO_PREFIX + e for e in emails],
    ).values_list("contact_id", flat=True)) - set(contact_ids)
    return sorted({pk for found in pseudo for pk in _merged_family(Contact.objects.get(pk=found))})


def scope_of(contact: Contact) -> Scope:
    contact_ids = _merged_family(contact)
    contact_ids = sorted({*contact_ids, *_pseudo_contacts(contact.workspace_id, contact_ids)})
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
