"""Durable subscriber: keeps the search index in step with messages, conversations, contacts and articles.

Idempotent per event: each event names objects, and indexing rebuilds their documents from the current rows
(an object that is gone, or merged into another, loses its document); a message's document comes from the
event's payload, which holds the text as stored (masked at ingest where the workspace masks). Erasure and redaction do not wait for an
event: they change the index in their own transaction (`actions.do_erase`, `actions.do_reindex_redacted`).
"""

from __future__ import annotations

from typing import Any

from threadline.contacts.models import Contact, ContactIdentity
from threadline.core.batch_rows import note, noted
from threadline.search import actions, documents
from threadline.search.models import Kind, SearchDocument, SearchTerm

MESSAGE_EVENTS = frozenset({"message.received", "message.created"})
CONVERSATION_EVENTS = frozenset({"conversation.created", "conversation.merged"})
CONTACT_EVENTS = frozenset({"contact.created", "contact.updated", "contact.identity_linked",
                            "contact.identity_removed"})
MERGE_EVENTS = frozenset({"contact.merged", "contact.unmerged"})
ARTICLE_EVENTS = frozenset({"article.published", "article.updated", "article.unpublished"})
TYPES = MESSAGE_EVENTS | CONVERSATION_EVENTS | CONTACT_EVENTS | MERGE_EVENTS | ARTICLE_EVENTS | {
    "conversation.updated", "contact.deleted"}


def interested(event_type: str, payload: dict[str, Any]) -> bool:
    """Only a change of subject re-indexes a conversation (status, assignee... are not searched)."""
    if event_type == "conversation.updated":
        return "subject" in (payload.get("changes") or {})
    return event_type in TYPES


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    if not interested(event_type, payload):
        return
    if event_type in MESSAGE_EVENTS:  # the payload carries the text: no read (the pipeline's hottest path)
        actions.do_store([documents.message_from_event(payload)])
    elif event_type in CONVERSATION_EVENTS or event_type == "conversation.updated":
        actions.do_index(Kind.CONVERSATION, [payload["conversation_id"]])
    elif event_type in CONTACT_EVENTS:
        _index_contact(payload["contact_id"])
    elif event_type in MERGE_EVENTS:
        actions.do_index(Kind.CONTACT, [payload["target_id"], payload["source_id"]])
    elif event_type == "contact.deleted":
        actions.do_remove(Kind.CONTACT, [payload["contact_id"]])
    elif event_type in ARTICLE_EVENTS:  # every translation of the article (internal-only applies to all)
        actions.do_index(Kind.ARTICLE, payload["translation_ids"])


def _index_contact(contact_id: int) -> None:
    """(Re)index a contact, once for the events of one batch job that change nothing its document is built from
    (a new sender's `contact.created` and `contact.identity_linked`: `core.batch_rows.note`)."""
    done = ("search.indexed", Kind.CONTACT, contact_id)
    if noted(done):
        return
    actions.do_index(Kind.CONTACT, [contact_id])
    note(done, Contact, ContactIdentity, SearchDocument, SearchTerm)
