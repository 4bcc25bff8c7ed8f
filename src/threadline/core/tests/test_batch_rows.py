"""`core.batch_rows`: a row a batch job wrote, handed to its followers until anything writes its table."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from threadline.contacts.models import Contact, ContactIdentity
from threadline.conversations.models import Conversation, ConversationEvent
from threadline.core import batch_rows
from threadline.core.row_writes import create, save_fields, update_columns
from threadline.search.models import SearchDocument
from threadline.testing.factories import make_api_channel


@pytest.fixture
def conversation(admin):
    contact = Contact.objects.create(workspace_id=admin.workspace_id, name="Dana")
    return Conversation.objects.create(workspace_id=admin.workspace_id, contact=contact, subject="Hello",
                                       sla_state={"first_response": {"due": "soon"}})


def test_a_kept_row_is_answered_without_a_read_as_a_new_instance_with_its_related_rows(admin, conversation):
    channel = make_api_channel(admin)
    with transaction.atomic(), batch_rows.scope():
        conversation.last_inbound_channel = channel
        save_fields(conversation, ["last_inbound_channel", "updated_at"])
        batch_rows.keep(conversation, last_inbound_channel=channel)
        with CaptureQueriesContext(connection) as queries:
            first = batch_rows.fresh(Conversation, conversation.pk, ("last_inbound_channel", "team"))
            second = batch_rows.fresh(Conversation, conversation.pk)
        assert len(queries.captured_queries) == 0
        assert first is not None and second is not None and first is not second and first is not conversation
        assert first.last_inbound_channel is channel and first.team is None  # no team: nothing to read
        stored = Conversation.objects.get(pk=conversation.pk)
        for field in Conversation._meta.concrete_fields:
            assert getattr(first, field.attname) == getattr(stored, field.attname), field.name
        assert not first._state.adding and first._state.db == "default"
        first.sla_state["first_response"]["due"] = "changed in memory"  # one reader's change stays its own
        assert second.sla_state == batch_rows.fresh(Conversation, conversation.pk).sla_state == {
            "first_response": {"due": "soon"}}
        # a related row the reader selects with it and that was not kept: the reader reads it all
        assert batch_rows.fresh(Conversation, conversation.pk, ("contact",)) is None


def test_any_write_to_its_table_or_a_rollback_forgets_it_and_none_outside_a_scope(conversation):
    assert batch_rows.fresh(Conversation, conversation.pk) is None
    batch_rows.keep(conversation)  # outside a scope: nothing kept
    with transaction.atomic(), batch_rows.scope():
        assert batch_rows.fresh(Conversation, conversation.pk) is None
        batch_rows.keep(conversation)
        create(ConversationEvent, workspace_id=conversation.workspace_id, conversation=conversation, kind="note",
               data={})  # another table, whose name starts with this one's
        assert batch_rows.fresh(Conversation, conversation.pk) is not None
        Conversation.objects.filter(pk=conversation.pk).update(subject="Changed")  # anyone's write
        assert batch_rows.fresh(Conversation, conversation.pk) is None

        batch_rows.keep(conversation)
        try:
            with transaction.atomic():
                batch_rows.keep(Conversation.objects.get(pk=conversation.pk))  # kept inside a savepoint …
                raise RuntimeError("undone")
        except RuntimeError:
            pass
        assert batch_rows.fresh(Conversation, conversation.pk) is None  # … that was rolled back

        batch_rows.keep(conversation)
        update_columns(conversation.contact, ["name"])
        assert batch_rows.fresh(Conversation, conversation.pk) is not None
    assert batch_rows.fresh(Conversation, conversation.pk) is None  # the scope ended


def test_all_rows_of_a_column_value_and_notes_last_until_their_tables_are_written(conversation):
    contact = conversation.contact
    with transaction.atomic(), batch_rows.scope():
        identity = ContactIdentity.objects.create(workspace_id=contact.workspace_id, contact=contact, kind="email",
                                                  address="dana@example.com")
        batch_rows.keep_all(ContactIdentity, "contact_id", contact.pk, [identity])
        batch_rows.note(("indexed", contact.pk), Contact, ContactIdentity, SearchDocument)
        kept = batch_rows.fresh_all(ContactIdentity, "contact_id", contact.pk)
        assert [(i.pk, i.address, i.contact_id) for i in kept or []] == [(identity.pk, "dana@example.com", contact.pk)]
        assert batch_rows.fresh_all(ContactIdentity, "contact_id", contact.pk + 1) is None
        assert batch_rows.noted(("indexed", contact.pk)) and not batch_rows.noted(("indexed", 0))
        SearchDocument.objects.create(workspace_id=contact.workspace_id, kind="contact", object_id=contact.pk)
        assert not batch_rows.noted(("indexed", contact.pk))
        assert batch_rows.fresh_all(ContactIdentity, "contact_id", contact.pk) is not None
        ContactIdentity.objects.create(workspace_id=contact.workspace_id, contact=contact, kind="email",
                                       address="dana@example.org")
        assert batch_rows.fresh_all(ContactIdentity, "contact_id", contact.pk) is None


def test_a_kept_row_follows_the_columns_written_through_update_columns_and_nothing_else(admin, conversation):
    """The language and SLA subscribers each write one column of the conversation the inbound job kept; the
    next subscriber gets the row with that column, without reading it back (issue 11)."""
    channel, other = make_api_channel(admin), make_api_channel(admin)
    other_conversation = Conversation.objects.create(workspace_id=admin.workspace_id, contact=conversation.contact)
    with transaction.atomic(), batch_rows.scope():
        conversation.last_inbound_channel = channel
        save_fields(conversation, ["last_inbound_channel"])
        batch_rows.keep(conversation, last_inbound_channel=channel, contact=conversation.contact)
        batch_rows.keep(other_conversation)
        reader = batch_rows.fresh(Conversation, conversation.pk)
        reader.language = "he"
        update_columns(reader, ["language"])
        with CaptureQueriesContext(connection) as queries:
            after = batch_rows.fresh(Conversation, conversation.pk, ("last_inbound_channel", "contact"))
        assert len(queries.captured_queries) == 0
        stored = Conversation.objects.get(pk=conversation.pk)
        for field in Conversation._meta.concrete_fields:
            assert getattr(after, field.attname) == getattr(stored, field.attname), field.name
        assert after.language == "he" and after.last_inbound_channel is channel
        assert batch_rows.fresh(Conversation, other_conversation.pk) is None  # another row of the table: dropped

        after.sla_state = {"first_response": {"due": "later"}}
        after.last_inbound_channel = other
        update_columns(after, ["sla_state", "last_inbound_channel"])
        again = batch_rows.fresh(Conversation, conversation.pk, ("contact",))
        assert (again.sla_state, again.language, again.last_inbound_channel_id) == (
            {"first_response": {"due": "later"}}, "he", other.pk)
        assert batch_rows.fresh(Conversation, conversation.pk, ("last_inbound_channel",)) is None  # its FK was written
        assert again.contact is conversation.contact  # still handed over

        missing = Conversation(pk=conversation.pk + 1000, workspace_id=admin.workspace_id)
        batch_rows.keep(missing)
        assert update_columns(missing, ["language"]) == 0  # no such row: nothing kept again
        assert batch_rows.fresh(Conversation, missing.pk) is None
