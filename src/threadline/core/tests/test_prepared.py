"""Prepared queries give exactly what the queryset they were built from gives, for any values bound later."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.models import BigIntegerField, ExpressionWrapper, F, Value
from django.test.utils import CaptureQueriesContext

from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation, Message
from threadline.core.prepared import Prepared
from threadline.core.time import now

LOCKED = Prepared(lambda pk: Conversation.objects.select_for_update(of=("self",)).select_related(
    "contact", "origin_channel", "team").filter(pk=pk, merged_into__isnull=True))
BY_CONTACT = Prepared(lambda contact_id, status: Conversation.objects.filter(
    contact_id=contact_id, status=status).order_by("-id"))
SUBJECTS = Prepared(lambda contact_id: Conversation.objects.filter(contact_id=contact_id).order_by("id")
                    .values_list("subject", flat=True))
PAIRS = Prepared(lambda contact_id: Conversation.objects.filter(contact_id=contact_id).order_by("id")
                 .values_list("id", "created_at"))
WITH_SUBJECT = Prepared(lambda subject: Conversation.objects.filter(subject=subject))
CONTAINING = Prepared(lambda text: Message.objects.filter(text__contains=text))


@pytest.fixture
def two_contacts(admin):
    workspace_id = admin.workspace_id
    first = Contact.objects.create(workspace_id=workspace_id, name="First")
    second = Contact.objects.create(workspace_id=workspace_id, name="Second")
    for contact, subjects in ((first, ["a", "b"]), (second, ["c"])):
        for subject in subjects:
            Conversation.objects.create(workspace_id=workspace_id, contact=contact, subject=subject)
    return first, second


def same(one: Conversation, other: Conversation) -> None:
    fields = [field.attname for field in Conversation._meta.concrete_fields]
    assert [getattr(one, name) for name in fields] == [getattr(other, name) for name in fields]
    assert one._state.adding is False and one._state.db == other._state.db
    assert one.contact.name == other.contact.name and one.team is None and one.origin_channel is None


def test_rows_and_related_rows_are_those_of_the_queryset(two_contacts):
    first, second = two_contacts
    with transaction.atomic():
        for conversation in Conversation.objects.all():
            prepared = LOCKED.one(conversation.pk)
            same(prepared, Conversation.objects.select_related("contact").get(pk=conversation.pk))
            with CaptureQueriesContext(connection) as queries:
                prepared.contact, prepared.team  # noqa: B018 - read from the join, no query
            assert not queries.captured_queries
        assert LOCKED.one(10**9) is None
    assert [c.subject for c in BY_CONTACT.all(first.pk, "new")] == ["b", "a"]
    assert [c.subject for c in BY_CONTACT.all(second.pk, "new")] == ["c"]
    assert BY_CONTACT.all(first.pk, "solved") == []
    assert BY_CONTACT.exists(second.pk, "new") and not BY_CONTACT.exists(second.pk, "closed")
    assert SUBJECTS.all(first.pk) == ["a", "b"] and SUBJECTS.one(second.pk) == "c"
    assert PAIRS.all(first.pk) == list(Conversation.objects.filter(contact=first).order_by("id")
                                       .values_list("id", "created_at"))
    assert PAIRS.all(first.pk)[0][1].tzinfo is not None  # converted like the ORM does


def test_one_statement_per_call_the_same_sql_for_other_values(two_contacts):
    first, second = two_contacts
    BY_CONTACT.all(first.pk, "new")
    seen = []

    def record(execute, sql, params, many, context):
        seen.append((sql, list(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        BY_CONTACT.all(second.pk, "pending")
        BY_CONTACT.all(first.pk, "new")
    assert len(seen) == 2 and seen[0][0] == seen[1][0]
    assert seen[0][1] == [second.pk, "pending"] and seen[1][1] == [first.pk, "new"]


def test_a_value_that_changes_the_sql_runs_the_queryset_itself(two_contacts):
    Conversation.objects.filter(subject="a").update(subject="")
    assert WITH_SUBJECT.one(None) is None  # `= NULL` would be wrong SQL: IS NULL, via the queryset
    assert WITH_SUBJECT.one("").subject == "" and WITH_SUBJECT.one("c").subject == "c"


def test_a_value_the_lookup_rewrites_cannot_be_prepared(db):
    with pytest.raises(ValueError, match="not plain parameters"):
        CONTAINING.all("text")  # bound as %text%: a marker the SQL does not hold as such


def test_a_moment_and_a_wrapped_key_are_bound_without_building_the_queryset_again(two_contacts):
    """A datetime compared with a DateTimeField, and a key behind `channel_id + 0` (which psycopg binds as
    `Int8` on PostgreSQL), vary like plain values: the queryset is built once, whatever the values."""
    first, _second = two_contacts
    built = []

    def build(contact_id, since):
        built.append(since)
        return Conversation.objects.alias(
            contact_key=ExpressionWrapper(F("contact_id") + Value(0), output_field=BigIntegerField()),
        ).filter(contact_key=contact_id, created_at__gte=since).order_by("id").values_list("subject", flat=True)

    since = Prepared(build)
    oldest = Conversation.objects.filter(contact=first).order_by("created_at")[0].created_at
    for moment in (oldest, oldest - dt.timedelta(days=1), oldest + dt.timedelta(days=1), now()):
        assert since.all(first.pk, moment) == list(build(first.pk, moment))
    assert len(built) == 1 + 4  # compiled once; the rest are the comparisons' own querysets


def test_the_sql_of_a_prepared_query_with_its_values_bound(two_contacts):
    first, second = two_contacts
    for contact in (first, second):
        sql, params = SUBJECTS.sql(contact.pk)
        assert sql == SUBJECTS.sql(first.pk)[0]  # one SQL for every value
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            assert [row[0] for row in cursor.fetchall()] == SUBJECTS.all(contact.pk)
    sql, params = WITH_SUBJECT.sql(None)  # a value that changes the SQL: the queryset's own
    assert (sql, tuple(params)) == Conversation.objects.filter(subject=None).query.sql_with_params()
