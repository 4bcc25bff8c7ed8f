"""Erasing a contact: every row and file holding their data goes, an audit tombstone stays.

Removed: the contact and the contacts merged into it, their identities, conversations (with messages,
timelines, deliveries, mentions, timers), messages they wrote elsewhere, attachment files on disk, raw inbound
payloads (linked by processing, or naming one of their addresses), outbox events about them (with the webhook
delivery copies of those events), jobs whose arguments name them, merge snapshots, consent records and the
channel kinds' rows (widget visitors, email participants), their community member (with their topics, posts,
votes, reports and follows; the topics they posted in are indexed again), their survey requests and answers
(scores, comments), the bot's sessions of their conversations (an external platform's session with them),
their portal sign-in links, codes and sessions, their article feedback (and anonymous feedback the help center
forwarded as their request), their export archives, and their search documents
with the words only they held (the index is compacted so the words leave its pages). The tombstone is an
audit entry `contact.erased` naming a keyed hash of the contact and the counts only.

On SQLite the erasure runs with `secure_delete` on and the database is vacuumed and its WAL checkpointed
afterwards, so the bytes leave the files too; on PostgreSQL the rows are deleted (their space is reclaimed by
autovacuum).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from django.core.files.storage import default_storage
from django.db import OperationalError, connection, transaction
from django.db.models import Q

from threadline.audit.actions import record
from threadline.channels import intake
from threadline.channels.models import InboundEvent
from threadline.community import search as community_search
from threadline.contacts.models import Contact, ContactIdentity, ContactMerge
from threadline.conversations.models import Message
from threadline.events.models import OutboxEvent
from threadline.jobs.models import Job
from threadline.privacy.models import ContactExport
from threadline.privacy.scope import Scope, contact_ref, scope_of
from threadline.search import actions as search_actions

logger = logging.getLogger(__name__)

MERGE_EVENT_KEYS = ("source_id", "target_id", "candidate_id")


def _outbox_ids(scope: Scope) -> list[int]:
    contacts, conversations, messages = set(scope.contact_ids), set(scope.conversation_ids), set(scope.message_ids)
    found = []
    rows = OutboxEvent.objects.filter(workspace_id=scope.workspace_id).values_list("pk", "type", "payload")
    for pk, kind, payload in rows.iterator(chunk_size=500):
        body = payload if isinstance(payload, dict) else {}
        if (body.get("contact_id") in contacts or body.get("conversation_id") in conversations
                or body.get("message_id") in messages or body.get("into_id") in conversations
                or (kind.startswith("contact.") and any(body.get(k) in contacts for k in MERGE_EVENT_KEYS))
                or scope.mentioned_in(str(payload))):
            found.append(pk)
    return found


def _job_ids(scope: Scope, outbox_ids: set[int], inbound_ids: set[int]) -> list[int]:
    """Jobs whose arguments name the contact, or that would dispatch or process a removed row."""
    found = []
    for pk, task_name, args, kwargs, error in Job.objects.values_list(
            "pk", "task", "args", "kwargs", "last_error").iterator(chunk_size=500):
        first = args[0] if isinstance(args, list) and args else None
        if ((task_name.endswith("dispatch_event_task") and first in outbox_ids)
                or (task_name.endswith("process_inbound_event_task") and first in inbound_ids)
                or scope.mentioned_in(f"{args} {kwargs} {error}")):
            found.append(pk)
    return found


def _delete_files_after_commit(names: list[str]) -> None:
    def remove() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:
                logger.exception("could not delete erased file %s", name)

    transaction.on_commit(remove)


def do_erase_contact(contact: Contact, *, actor: Any = None) -> dict[str, int]:
    """Erase `contact` now (the caller holds the transaction); returns the counts the tombstone keeps."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")
        transaction.on_commit(compact_database)
    scope = scope_of(contact)
    workspace_id, ref = contact.workspace_id, contact_ref(contact.workspace_id, contact.pk)
    inbound_ids = scope.inbound_events()
    outbox_ids = _outbox_ids(scope)
    job_ids = _job_ids(scope, set(outbox_ids), set(inbound_ids))
    files = [name for name in scope.attachments().values_list("file", flat=True) if name]
    exports = ContactExport.objects.filter(contact_id__in=scope.contact_ids)
    merges = ContactMerge.objects.filter(Q(source_id__in=scope.contact_ids) | Q(target_id__in=scope.contact_ids))
    files += [name for name in exports.values_list("path", flat=True) if name]
    counts = {
        "contacts": len(scope.contact_ids), "identities": len(scope.identity_ids),
        "conversations": len(scope.conversation_ids), "messages": len(scope.message_ids),
        "attachments": scope.attachments().count(), "inbound_events": len(inbound_ids),
        "outbox_events": len(outbox_ids), "jobs": len(job_ids),
        "merges": merges.count(),
        "exports": exports.count(),
    }
    authored = Message.objects.filter(author_contact_id__in=scope.contact_ids).values_list("pk", flat=True)
    search_actions.do_erase(workspace_id, {"contact": scope.contact_ids, "conversation": scope.conversation_ids,
                                           "message": {*scope.message_ids, *authored}})
    merges.delete()
    Job.objects.filter(pk__in=job_ids).delete()
    OutboxEvent.objects.filter(pk__in=outbox_ids).delete()
    InboundEvent.objects.filter(pk__in=inbound_ids).delete()
    topics = community_search.topics_of_contacts(scope.contact_ids)
    for label, rows in scope.kind_rows():  # before the conversations, whose cascade would take some of them
        counts[label] = rows.count()
        rows.delete()
    Message.objects.filter(author_contact_id__in=scope.contact_ids).exclude(
        conversation_id__in=scope.conversation_ids).delete()
    scope.conversations().delete()
    community_search.reindex_after_erasure(workspace_id, topics)
    exports.delete()
    ContactIdentity.objects.filter(pk__in=scope.identity_ids).delete()
    Contact.objects.filter(pk__in=scope.contact_ids).update(merged_into=None)
    Contact.objects.filter(pk__in=scope.contact_ids).delete()
    _delete_files_after_commit(files)
    record("contact.erased", workspace_id=workspace_id, target_type="contact", target_id=ref, details=counts,
           actor=actor)
    return counts


def compact_database() -> None:
    """SQLite: rewrite the file without the freed pages and empty the WAL, so erased bytes are gone."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = OFF")
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        intake.forget_deleted()  # its WAL held the payloads it moved (ADR 0008)
    except (OperationalError, sqlite3.OperationalError):  # busy readers: secure_delete already zeroed the cells; the next run retries
        logger.warning("could not vacuum the database after an erasure", exc_info=True)
