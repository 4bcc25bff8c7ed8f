"""What each kind of object is indexed as: (title, body, visibility) from its current rows, in bulk.

Messages: body = the text (agents' internal notes too, marked internal). Conversations: title = the subject.
Contacts (not merged into another): title = the name, body = every identity's address and display name, and a
phone number's trailing digits from four on, so a fragment of a number finds it. Articles: one document per
translation, title = its title, body = its plain text; internal unless published on a public article; an
archived translation has none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from threadline.contacts.models import Contact, ContactIdentity
from threadline.conversations.models import Conversation, Message
from threadline.core.batch_rows import fresh, fresh_all
from threadline.knowledge.models import ArticleTranslation, State
from threadline.search.analysis import index_text
from threadline.search.models import Kind, Visibility

MIN_FRAGMENT = 4


@dataclass(frozen=True)
class Document:
    workspace_id: int
    kind: str
    object_id: int
    title: str  # analysed
    body: str  # analysed
    visibility: str = Visibility.PUBLIC


def messages(ids: Iterable[int]) -> list[Document]:
    rows = Message.objects.filter(pk__in=list(ids)).values_list("pk", "workspace_id", "text", "is_note")
    return [Document(workspace_id, Kind.MESSAGE, pk, "", index_text(text),
                     Visibility.INTERNAL if is_note else Visibility.PUBLIC)
            for pk, workspace_id, text, is_note in rows]


def message_from_event(payload: dict[str, Any]) -> Document:
    """A message's document from its `message.received`/`message.created` payload (which carries the text as
    stored, masked at ingest where the workspace masks), without reading the row."""
    internal = payload.get("is_note")
    return Document(payload["workspace_id"], Kind.MESSAGE, payload["message_id"], "", index_text(payload["text"]),
                    Visibility.INTERNAL if internal else Visibility.PUBLIC)


def conversations(ids: Iterable[int]) -> list[Document]:
    rows = Conversation.objects.filter(pk__in=list(ids), merged_into__isnull=True).values_list(
        "pk", "workspace_id", "subject")
    return [Document(workspace_id, Kind.CONVERSATION, pk, index_text(subject), "") for pk, workspace_id, subject in rows]


def _digits_fragments(address: str) -> list[str]:
    digits = "".join(ch for ch in address if ch.isdigit())
    if len(digits) < MIN_FRAGMENT or len(digits) != len(address.lstrip("+")):
        return []
    return [digits[-n:] for n in range(MIN_FRAGMENT, len(digits))]


def contacts(ids: Iterable[int]) -> list[Document]:
    """Contacts' documents; a contact created in this batch job comes from the rows it wrote (`core.batch_rows`:
    its row and every identity, unchanged since), the others from a read."""
    docs, unread = [], []
    for pk in ids:
        contact = fresh(Contact, pk)
        kept = fresh_all(ContactIdentity, "contact_id", pk) if contact is not None else None
        if contact is None or kept is None:
            unread.append(pk)
        elif contact.merged_into_id is None:
            docs.append(_contact_document(pk, contact.workspace_id, contact.name,
                                          [(identity.address, identity.display_name) for identity in kept]))
    if not unread:
        return docs
    rows = list(Contact.objects.filter(pk__in=unread, merged_into__isnull=True).values_list(
        "pk", "workspace_id", "name"))
    found: dict[int, list[tuple[str, str]]] = {pk: [] for pk, _, _ in rows}
    for contact_id, address, display_name in ContactIdentity.objects.filter(contact_id__in=list(found)).values_list(
            "contact_id", "address", "display_name"):
        found[contact_id].append((address, display_name))
    return docs + [_contact_document(pk, workspace_id, name, found[pk]) for pk, workspace_id, name in rows]


def _contact_document(pk: int, workspace_id: int, name: str, identities: list[tuple[str, str]]) -> Document:
    words = [word for address, display_name in identities
             for word in (address, display_name, *_digits_fragments(address))]
    return Document(workspace_id, Kind.CONTACT, pk, index_text(name), index_text(" ".join(words)))


def articles(ids: Iterable[int]) -> list[Document]:
    rows = ArticleTranslation.objects.filter(pk__in=list(ids)).exclude(state=State.ARCHIVED).values_list(
        "pk", "workspace_id", "title", "body_text", "state", "article__internal_only")
    return [Document(workspace_id, Kind.ARTICLE, pk, index_text(title), index_text(body),
                     Visibility.PUBLIC if state == State.PUBLISHED and not internal else Visibility.INTERNAL)
            for pk, workspace_id, title, body, state, internal in rows]


BUILDERS = {Kind.MESSAGE: messages, Kind.CONVERSATION: conversations, Kind.CONTACT: contacts,
            Kind.ARTICLE: articles}
