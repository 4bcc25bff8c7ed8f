"""The index at size (migration 0002): each (workspace, kind, visibility) is its own slice of the full-text
index, another domain's kind gets its slice on its first document, ranking runs over the newest `WINDOW`
matches of each kind, and (SQLite) what the key cannot hold is refused, never indexed under a wrong key.
Documents are stored directly (`do_store`), as another domain indexing its own kind does."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from threadline.search import backends
from threadline.search.actions import do_remove, do_store
from threadline.search.analysis import index_text
from threadline.search.documents import Document
from threadline.search.models import Visibility
from threadline.search.queries import AGENT_VISIBILITIES, find
from threadline.testing import factories

pytestmark = pytest.mark.django_db(transaction=False)
PUBLIC = [Visibility.PUBLIC]


def doc(workspace_id: int, kind: str, object_id: int, title: str = "", body: str = "",
        visibility: str = Visibility.PUBLIC) -> Document:
    return Document(workspace_id, kind, object_id, index_text(title), index_text(body), visibility)


def found(workspace_id: int, query: str, kinds: list[str], visibilities=AGENT_VISIBILITIES, **kw) -> list:
    return [(h.kind, h.object_id) for h in find(workspace_id, query, kinds=kinds, visibilities=visibilities,
                                                 limit=kw.pop("limit", 20), **kw).hits]


def test_a_new_kind_is_found_in_its_own_slice_only(admin):
    ws = admin.workspace_id
    do_store([doc(ws, "article", 1, "Returning a parcel", "How to send it back"),
              doc(ws, "community_post", 1, "Parcel lost", "my parcel never came", Visibility.INTERNAL),
              doc(ws, "message", 1, body="where is my parcel")])
    assert found(ws, "parcel", ["article"]) == [("article", 1)]
    assert found(ws, "parcel", ["community_post"]) == [("community_post", 1)]
    assert found(ws, "parcel", ["community_post"], PUBLIC) == []
    assert found(ws, "parcel", ["article", "community_post", "message"]) == [
        ("community_post", 1), ("article", 1), ("message", 1)]  # titles first (in the title and the body first), then a body
    assert found(ws, "parcel", ["unknown_kind"]) == []


def test_visibility_changes_move_a_document_between_slices(admin):
    ws = admin.workspace_id
    do_store([doc(ws, "article", 7, "Refund rules", visibility=Visibility.INTERNAL)])
    assert found(ws, "refund", ["article"], PUBLIC) == []
    do_store([doc(ws, "article", 7, "Refund rules", visibility=Visibility.PUBLIC)])  # published
    assert found(ws, "refund", ["article"], PUBLIC) == [("article", 7)]
    assert found(ws, "refund", ["article"], [Visibility.INTERNAL]) == []
    do_remove("article", [7])
    assert found(ws, "refund", ["article"]) == []


def test_slices_of_two_workspaces_and_kinds_do_not_leak(admin):
    other = factories.make_workspace("Other Co").workspace_id
    ws = admin.workspace_id
    do_store([doc(ws, "message", 1, body="invoice copy"), doc(other, "message", 2, body="invoice copy"),
              doc(ws, "conversation", 3, "invoice copy")])
    assert found(ws, "invoice", ["message"]) == [("message", 1)]
    assert found(other, "invoice", ["message", "conversation"]) == [("message", 2)]
    assert found(ws, "invoice", ["conversation", "message"]) == [("conversation", 3), ("message", 1)]


def test_ranking_covers_the_newest_window_of_each_kind(admin, monkeypatch):
    ws = admin.workspace_id
    do_store([doc(ws, "message", 1, body="shipping shipping shipping"),  # oldest, best on its own
              doc(ws, "message", 2, body="shipping question about a long order with many more words"),
              doc(ws, "message", 3, body="shipping question about an order"),
              doc(ws, "conversation", 4, "shipping")])
    assert found(ws, "shipping", ["message"])[0] == ("message", 1)
    monkeypatch.setattr(backends, "WINDOW", 2)
    assert found(ws, "shipping", ["message"]) == [("message", 3), ("message", 2)]  # the newest two, ranked
    assert found(ws, "shipping", ["message", "conversation"]) == [  # each kind has its own window
        ("conversation", 4), ("message", 3), ("message", 2)]
    assert found(ws, "shipping", ["message"], limit=1, offset=1) == [("message", 2)]


def test_several_words_find_the_newest_matches_before_and_past_the_walked_documents(admin, monkeypatch):
    """On PostgreSQL a query of several words walks the kind's newest `SCAN` documents first and asks the GIN
    index only for older ones when the walk did not fill the window: the hits are those of one plain query,
    wherever the matches are, with visibility and the window applied to both parts."""
    ws = admin.workspace_id
    do_store([doc(ws, "message", 1, body="charged twice for my order"),
              doc(ws, "message", 2, body="charged twice again", visibility=Visibility.INTERNAL),
              doc(ws, "message", 3, body="charged once"),
              doc(ws, "message", 4, body="twice as fast"),
              doc(ws, "message", 5, body="nothing to see"),
              doc(ws, "message", 6, body="i was charged twice"),
              doc(ws, "conversation", 7, "charged twice")])
    for scan in (1000, 3, 1):  # everything walked; the walk (6, 5, 4) holds one match; it holds none of 3, 2, 1
        monkeypatch.setattr(backends, "SCAN", scan)
        monkeypatch.setattr(backends, "WINDOW", 1000)
        assert sorted(found(ws, "charged twice", ["message"])) == [("message", 1), ("message", 2), ("message", 6)]
        assert sorted(found(ws, "charged twice", ["message"], PUBLIC)) == [("message", 1), ("message", 6)]
        assert found(ws, "twice charged", ["conversation"]) == [("conversation", 7)]
        monkeypatch.setattr(backends, "WINDOW", 2)  # the newest two matches, from the walk and past it
        assert sorted(found(ws, "charged twice", ["message"])) == [("message", 2), ("message", 6)]
        assert found(ws, "charged twi", ["message"], PUBLIC, limit=1, offset=1) in ([("message", 1)], [("message", 6)])


def test_a_small_kind_finds_its_matches_in_the_walk_past_it_and_through_its_gin_index(admin, monkeypatch):
    """On PostgreSQL the kinds other than messages walk their newest `SMALL_SCAN` documents first; past them the
    walk goes on when it found at least `DENSE` matches and the GIN index is asked otherwise. Whichever part
    answers, the hits are those of one plain query: the kind's and the workspace's only, visibility and the
    window applied."""
    ws, other = admin.workspace_id, factories.make_workspace("Other").workspace_id
    do_store([doc(ws, "contact", 1, "Dana Levi", "dana@example.com"),
              doc(ws, "contact", 2, "Dana Cohen", visibility=Visibility.INTERNAL),
              doc(ws, "contact", 3, "Omer Levi"),
              doc(ws, "message", 4, body="dana wrote"),
              doc(other, "contact", 5, "Dana Other"),
              doc(ws, "contact", 6, "Nobody"),
              doc(ws, "contact", 7, "Dana")])
    # everything walked; the walk (7, 6) holds one match and goes on, or asks the GIN index; the walk (7) alone
    for scan, dense in ((1000, 1), (2, 1), (2, 2), (1, 1), (1, 5)):
        monkeypatch.setattr(backends, "SMALL_SCAN", scan)
        monkeypatch.setattr(backends, "DENSE", dense)
        monkeypatch.setattr(backends, "WINDOW", 1000)
        assert sorted(found(ws, "dana", ["contact"])) == [("contact", 1), ("contact", 2), ("contact", 7)]
        assert sorted(found(ws, "dan", ["contact"], PUBLIC)) == [("contact", 1), ("contact", 7)]
        assert found(ws, "levi omer", ["contact"]) == [("contact", 3)]
        assert found(ws, "nothing", ["contact"]) == []
        assert sorted(found(ws, "dana", ["contact", "message"])) == [
            ("contact", 1), ("contact", 2), ("contact", 7), ("message", 4)]
        monkeypatch.setattr(backends, "WINDOW", 2)  # the newest two matches, from the walk and past it
        assert sorted(found(ws, "dana", ["contact"])) == [("contact", 2), ("contact", 7)]
        assert found(ws, "levi", ["contact"], limit=1, offset=1) in ([("contact", 1)], [("contact", 3)])


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite key; PostgreSQL has no key to overflow")
def test_sqlite_refuses_what_the_key_cannot_hold(admin):
    ws = admin.workspace_id
    with pytest.raises(DatabaseError, match="out of the key range"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO search_document (id, workspace_id, kind, object_id, visibility, title, body, "
                           "updated_at) VALUES (%s, %s, 'message', 1, 'public', '', 'x', '2026-01-01')",
                           [1 << backends.KEY_INTERNAL, ws])
    with pytest.raises(DatabaseError, match="out of the key range"), transaction.atomic():
        do_store([doc(ws, f"kind{n}", 1, body="x") for n in range(16)])
