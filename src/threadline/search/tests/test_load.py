"""`results.load` reads the objects behind hits by primary key alone and keeps only the workspace's (issue 11:
`workspace_id = … AND id IN (…)` let PostgreSQL read the whole workspace's index when its statistics lagged)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from threadline.search.backends import Hit
from threadline.search.queries import Found
from threadline.search.results import load
from threadline.search.tests.builders import writes
from threadline.testing import factories


def test_a_hit_on_another_workspace_s_object_is_dropped(admin):
    ours = writes(factories.make_api_channel(admin), "our parcel", address="a@example.com")
    other = factories.make_workspace("Other Co")
    theirs = writes(factories.make_api_channel(other), "their parcel", address="b@example.com")
    found = Found([Hit("message", theirs.pk, 2.0), Hit("message", ours.pk, 1.0),
                   Hit("conversation", theirs.conversation_id, 1.0), Hit("contact", theirs.conversation.contact_id, 1.0),
                   Hit("conversation", ours.conversation_id, 0.5)], [("parcel",)], False)
    with CaptureQueriesContext(connection) as captured:
        load(admin.workspace_id, found)
    assert [(h.kind, h.object_id) for h in found.hits] == [("message", ours.pk), ("conversation", ours.conversation_id)]
    assert set(found.objects) == {("message", ours.pk), ("conversation", ours.conversation_id)}
    loads = [q["sql"] for q in captured.captured_queries if '"id" IN' in q["sql"]]
    assert loads and all('"workspace_id" =' not in sql.split(" WHERE ")[1] for sql in loads)
