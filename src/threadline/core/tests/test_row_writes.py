"""`core.row_writes` writes what Django's create/save/bulk_create would, with the SQL compiled once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from threadline.analytics.models import StaleConversation
from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation, ConversationEvent
from threadline.core.row_writes import create, insert_rows, save_fields, update_columns
from threadline.search.models import SearchDocument, SearchTerm


@pytest.fixture
def conversation(admin):
    contact = Contact.objects.create(workspace_id=admin.workspace_id, name="Dana")
    return Conversation.objects.create(workspace_id=admin.workspace_id, contact=contact, subject="Hello")


def test_create_stores_the_row_save_would_and_leaves_the_instance_saved(conversation):
    fields = {"workspace_id": conversation.workspace_id, "conversation": conversation, "kind": "note",
              "data": {"text": "שלום", "n": 1}}
    created = [create(ConversationEvent, **fields) for _ in range(2)]
    reference = ConversationEvent.objects.create(**fields)
    assert created[0].pk and created[1].pk == created[0].pk + 1 and reference.pk == created[1].pk + 1
    assert not created[0]._state.adding and created[0]._state.db == "default"
    stored = ConversationEvent.objects.get(pk=created[0].pk)
    for name in ("workspace_id", "conversation_id", "kind", "data", "actor_id"):
        assert getattr(stored, name) == getattr(reference, name) == getattr(created[0], name)
    assert stored.created_at == created[0].created_at and stored.created_at.tzinfo is not None


def test_save_fields_writes_only_the_named_columns_and_says_when_the_row_is_gone(conversation):
    before = conversation.updated_at
    conversation.status, conversation.subject = "open", "not saved"
    with CaptureQueriesContext(connection) as queries:
        save_fields(conversation, ["status", "updated_at"])
    assert len(queries.captured_queries) == 1
    stored = Conversation.objects.get(pk=conversation.pk)
    assert stored.status == "open" and stored.subject == "Hello" and stored.updated_at > before
    assert update_columns(conversation, ["subject"]) == 1 and Conversation.objects.get(pk=conversation.pk).subject == "not saved"
    gone = Conversation(pk=10**9, workspace_id=conversation.workspace_id, contact_id=conversation.contact_id)
    gone._state.adding = False
    assert update_columns(gone, ["status"]) == 0
    with pytest.raises(DatabaseError, match="did not affect any rows"), transaction.atomic():
        save_fields(gone, ["status"])


def test_insert_rows_ignores_or_updates_conflicts_like_bulk_create(conversation):
    workspace_id = conversation.workspace_id
    insert_rows([SearchTerm(workspace_id=workspace_id, term=t) for t in ("order", "parcel")], conflicts="ignore")
    insert_rows([SearchTerm(workspace_id=workspace_id, term=t) for t in ("parcel", "refund")], conflicts="ignore")
    assert sorted(SearchTerm.objects.values_list("term", flat=True)) == ["order", "parcel", "refund"]
    for title in ("first", "second"):
        insert_rows([SearchDocument(workspace_id=workspace_id, kind="conversation", object_id=conversation.pk,
                                    title=title, body="b")], conflicts="update", unique_fields=["kind", "object_id"],
                    update_fields=["title", "updated_at"])
    assert list(SearchDocument.objects.values_list("title", flat=True)) == ["second"]
    moment = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    for at in (moment, moment + dt.timedelta(hours=1)):  # a natural primary key, given
        insert_rows([StaleConversation(conversation_id=conversation.pk, workspace_id=workspace_id, marked_at=at)],
                    conflicts="update", unique_fields=["conversation_id"], update_fields=["marked_at"])
    assert StaleConversation.objects.get().marked_at == moment + dt.timedelta(hours=1)


def test_a_model_with_save_receivers_goes_through_save(conversation):
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.kind, created))

    post_save.connect(receiver, sender=ConversationEvent)
    try:
        create(ConversationEvent, workspace_id=conversation.workspace_id, conversation=conversation, kind="note")
    finally:
        post_save.disconnect(receiver, sender=ConversationEvent)
    assert seen == [("note", True)]
