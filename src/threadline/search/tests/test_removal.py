"""Removal from the index: erasure leaves no trace (documents, dictionary terms, and on SQLite the FTS5 pages),
redaction re-indexes the redacted text, retention drops the deleted conversations' documents, and the rebuild
restores an index from rows written without events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from threadline.conversations.models import Conversation, Status
from threadline.privacy.erasure import do_erase_contact
from threadline.privacy.models import RetentionKind, RetentionPolicy
from threadline.privacy.retention import apply
from threadline.redaction.actions import do_redact_message
from threadline.search.models import RebuildProgress, SearchDocument, SearchTerm
from threadline.search.queries import AGENT_KINDS, AGENT_VISIBILITIES, find
from threadline.search.rebuild import rebuild
from threadline.search.tests.builders import writes
from threadline.testing import factories

pytestmark = pytest.mark.django_db(transaction=False)
SECRET = "quillfeatherzed"


def kinds_found(workspace_id: int, query: str) -> list[str]:
    return [h.kind for h in find(workspace_id, query, kinds=list(AGENT_KINDS), visibilities=AGENT_VISIBILITIES,
                                 limit=20).hits]


def index_pages() -> bytes:
    """Every byte of the FTS5 structures (SQLite's shadow tables of both full-text tables)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT block FROM search_fts_data UNION ALL SELECT block FROM search_term_fts_data")
        return b"".join(bytes(row[0]) for row in cursor.fetchall() if row[0] is not None)


@pytest.fixture
def channel(admin):
    return factories.make_api_channel(admin)


def empty_index_pages() -> None:
    """Start from FTS5 tables without pages. A transactional test's flush empties only Django's tables, so the
    index keeps earlier tests' terms, and FTS5 stores a term that shares a prefix with the one before it (an
    earlier test's "quillfeather") as its suffix only: the byte search would then miss it before the erasure
    and could pass after it without proving anything."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
        cursor.execute("INSERT INTO search_term_fts(search_term_fts) VALUES ('delete-all')")


def test_erasure_leaves_nothing_of_the_contact_in_the_index(admin, channel):
    if connection.vendor == "sqlite":
        empty_index_pages()
    message = writes(channel, f"my code is {SECRET}, call me", name=f"Zed {SECRET.title()}",
                     address=f"{SECRET}@example.org", subject=f"About {SECRET}")
    bystander = writes(channel, "nothing to see here", address="bo@example.net", name="Bo Bystander")
    assert sorted(kinds_found(admin.workspace_id, SECRET)) == ["contact", "conversation", "message"]
    assert SearchTerm.objects.filter(term=SECRET).exists()
    if connection.vendor == "sqlite":
        assert SECRET.encode() in index_pages()
    with transaction.atomic():
        do_erase_contact(message.conversation.contact, actor=admin)
    assert kinds_found(admin.workspace_id, SECRET) == []
    assert kinds_found(admin.workspace_id, "quillfeathrzed") == []  # nor through the typo dictionary
    assert not SearchTerm.objects.filter(term__contains="quillfeather").exists()
    assert not SearchDocument.objects.filter(body__contains=SECRET).exists()
    assert not SearchDocument.objects.filter(title__contains=SECRET).exists()
    if connection.vendor == "sqlite":
        assert SECRET.encode() not in index_pages()
    assert kinds_found(admin.workspace_id, "bystander") == ["contact"]
    assert [h.object_id for h in find(admin.workspace_id, "nothing", kinds=["message"],
                                      visibilities=AGENT_VISIBILITIES, limit=5).hits] == [bystander.pk]


def test_redaction_reindexes_the_message_and_forgets_the_words(admin, channel):
    message = writes(channel, "my card is 4111111111111111 and my password is hunter2secret", subject="Login")
    assert kinds_found(admin.workspace_id, "hunter2secret") == ["message"]
    with transaction.atomic():
        do_redact_message(admin, message, text="hunter2secret")
    assert kinds_found(admin.workspace_id, "hunter2secret") == []
    assert kinds_found(admin.workspace_id, "hunter2secrte") == []
    assert not SearchTerm.objects.filter(term="hunter2secret").exists()
    assert kinds_found(admin.workspace_id, "password") == ["message"]  # the rest is still found
    assert kinds_found(admin.workspace_id, "redacted") == ["message"]


def test_retention_drops_the_deleted_conversations_documents(admin, channel):
    old = writes(channel, "an ancient complaint", subject="Old", address="old@example.com")
    kept = writes(channel, "a fresh complaint", subject="New", address="new@example.com")
    Conversation.objects.filter(pk=old.conversation_id).update(status=Status.CLOSED)
    RetentionPolicy.objects.create(workspace_id=admin.workspace_id, kind=RetentionKind.CLOSED_CONVERSATIONS, days=30)
    with transaction.atomic():
        apply(admin.workspace_id, moment=old.created_at + dt.timedelta(days=31))
    assert [h.object_id for h in find(admin.workspace_id, "complaint", kinds=["message"],
                                      visibilities=AGENT_VISIBILITIES, limit=5).hits] == [kept.pk]
    assert not SearchDocument.objects.filter(kind="conversation", object_id=old.conversation_id).exists()


def test_rebuild_indexes_rows_written_without_events_and_resumes(admin, channel):
    first = writes(channel, "alpha parcel", address="a@example.com")
    second = writes(channel, "beta parcel", address="b@example.com")
    SearchDocument.objects.all().delete()
    SearchTerm.objects.all().delete()
    assert kinds_found(admin.workspace_id, "parcel") == []
    # an interrupted rebuild: contacts done, messages up to the first one
    RebuildProgress.objects.create(scope=admin.workspace.slug, kind="message", last_id=first.pk)
    counts = rebuild(admin.workspace, chunk=1)
    assert counts["message"] == 1 and counts["contact"] == 2
    assert [h.object_id for h in find(admin.workspace_id, "parcel", kinds=["message"],
                                      visibilities=AGENT_VISIBILITIES, limit=5).hits] == [second.pk]
    assert not RebuildProgress.objects.exists()  # finished: the next run starts over
    SearchDocument.objects.create(workspace_id=admin.workspace_id, kind="message", object_id=999999, body="parcel")
    call_command("search", "rebuild", "--workspace", admin.workspace.slug)
    assert sorted(h.object_id for h in find(admin.workspace_id, "parcel", kinds=["message"],
                                            visibilities=AGENT_VISIBILITIES, limit=5).hits) == [first.pk, second.pk]
    assert not SearchDocument.objects.filter(object_id=999999).exists()  # a stale document is removed


def test_rebuild_of_an_unknown_workspace_is_refused(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("search", "rebuild", "--workspace", "nope")
