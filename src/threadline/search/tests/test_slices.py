"""The index at size (migration 0002): each (workspace, kind, visibility) is its own slice of the full-text
index, another domain's kind gets its slice on its first document, ranking runs over the newest `WINDOW`
matches of each kind, and (SQLite) what the key cannot hold is refused, never indexed under a wrong key.
Documents are stored directly (`do_store`), as another domain indexing its own kind does."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

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


def arms_run(workspace_id: int, query: str, kinds: list[str]) -> dict[str, list[bool]]:
    """PostgreSQL: which parts of the data-driven statement ran for `find` (EXPLAIN ANALYZE of the statement it
    sent): `walk on`, the b-tree walk past the newest documents (`ts_match_vq` with `id <`), and `gin`, the GIN
    arm (`id + 0 <`), each with whether it ran, for each kind asked that way; a part whose one-time filter is
    false, or that the LIMIT never started, has no loops."""
    with CaptureQueriesContext(connection) as ctx:
        find(workspace_id, query, kinds=kinds, visibilities=AGENT_VISIBILITIES, limit=20)
    sql = max((c["sql"] for c in ctx.captured_queries), key=len)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    ran: dict[str, list[bool]] = {"walk on": [], "gin": []}

    def visit(node: dict) -> None:
        if node.get("Relation Name") == "search_document":
            text = " ".join(str(v) for k, v in node.items() if k != "Plans")
            arm = "gin" if "id + 0" in text else "walk on" if "ts_match_vq" in text else None
            if arm:
                ran[arm].append(node["Actual Loops"] > 0)
        for child in node.get("Plans", []):
            visit(child)

    visit(plan[0]["Plan"])
    return ran


def test_one_word_over_the_messages_is_answered_by_the_walk_its_continuation_or_the_gin_index(admin, monkeypatch):
    """On PostgreSQL one word asked of the messages is answered as the small kinds' queries are: the column's
    statistics mix the kinds ('custom', in every contact's email address, looked frequent in the messages, which
    were then walked whole for none), so the newest `SMALL_SCAN` messages are walked first, the walk goes on
    past them when they held at least `MESSAGE_DENSE` matches, and the GIN index is asked otherwise. The hits are those
    of one plain query whichever part answers; on PostgreSQL the plan shows that part, and only it, ran."""
    ws, other = admin.workspace_id, factories.make_workspace("Other").workspace_id
    do_store([doc(ws, "message", 1, body="where is my parcel"),
              doc(ws, "message", 2, body="parcel lost", visibility=Visibility.INTERNAL),
              doc(ws, "contact", 3, "Customer", "customer3@example.com"),
              doc(ws, "message", 4, body="thanks"),
              doc(other, "message", 5, body="parcel elsewhere"),
              doc(ws, "message", 6, body="nothing here"),
              doc(ws, "message", 7, body="the parcel arrived")])
    # (walked, dense threshold, window) -> the parts that ran past the walk: the walk (7, 6) holds one match
    # and goes on or asks the GIN index; everything walked and the window filled there; the walk (7) alone
    for scan, dense, window, walk_on, gin in ((1000, 1, 1000, True, False), (2, 1, 1000, True, False),
                                              (2, 2, 1000, False, True), (1, 5, 1000, False, True),
                                              (1000, 1, 2, False, False)):
        monkeypatch.setattr(backends, "SMALL_SCAN", scan)
        monkeypatch.setattr(backends, "MESSAGE_DENSE", dense)
        monkeypatch.setattr(backends, "WINDOW", window)
        assert sorted(found(ws, "parcel", ["message"])) == [("message", 1), ("message", 2), ("message", 7)][-window:]
        assert sorted(found(ws, "parc", ["message"], PUBLIC)) == [("message", 1), ("message", 7)]
        assert found(ws, "custom", ["message"]) == []
        assert found(ws, "custom", ["contact"]) == [("contact", 3)]
        if connection.vendor == "postgresql":
            assert arms_run(ws, "parcel", ["message"]) == {"walk on": [walk_on], "gin": [gin]}, (scan, dense, window)
    monkeypatch.setattr(backends, "SMALL_SCAN", 2)
    monkeypatch.setattr(backends, "MESSAGE_DENSE", 1)
    monkeypatch.setattr(backends, "DENSE", 1)
    monkeypatch.setattr(backends, "WINDOW", 1000)
    assert sorted(found(ws, "parcel lost", ["message"])) == [("message", 2)]  # several words: the long walk
    if connection.vendor == "postgresql":
        assert arms_run(ws, "parcel lost", ["message"]) == {"walk on": [], "gin": []}
        assert arms_run(ws, "parcel", ["message", "contact"]) == {"walk on": [True, False], "gin": [False, True]}


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


@pytest.mark.skipif(connection.vendor != "sqlite", reason="FTS5's prefix expansion; PostgreSQL walks the documents")
def test_sqlite_asks_a_prefix_of_many_terms_as_its_first_terms(admin, monkeypatch):
    """A prefix beginning more than DENSE_PREFIX of the workspace's terms is asked as itself and its first
    PREFIX_TERMS terms, not as an FTS5 prefix (which merges every term it begins); a rarer prefix, another
    workspace's terms and the words before the last keep their plain forms."""
    monkeypatch.setattr(backends, "DENSE_PREFIX", 4)
    monkeypatch.setattr(backends, "PREFIX_TERMS", 3)
    ws, other = admin.workspace_id, factories.make_workspace("Other").workspace_id
    do_store([doc(ws, "contact", n, f"Ada {name}", f"{name}@example.com")
              for n, name in enumerate(["zeddb", "zedd", "zedda", "zeddc", "zeddd", "zeddish"], 1)]
             + [doc(ws, "contact", 7, "Zorro", "zorro@example.com")]
             + [doc(other, "contact", 100 + n, f"Bo zeddq{n}") for n in range(1, 4)])

    def match_sql(query: str, workspace_id: int = ws) -> tuple[list, str]:
        with CaptureQueriesContext(connection) as queries:
            hits = found(workspace_id, query, ["contact"])
        asked = [q["sql"] for q in queries.captured_queries if "search_fts MATCH" in q["sql"]]
        assert len(asked) == 1, asked  # found at once: no second query with corrections
        return sorted(hits), asked[0]

    hits, sql = match_sql("zedd")  # six terms begin with it, more than 4: itself and the first 3 in order
    assert '("zedd" OR "zedda" OR "zeddb")' in sql and '"zedd"*' not in sql
    assert hits == [("contact", 1), ("contact", 2), ("contact", 3)]
    hits, sql = match_sql("zorr")  # one term begins with it: a prefix as before
    assert hits == [("contact", 7)] and '"zorr"*' in sql
    hits, sql = match_sql("ada zedd")
    assert hits == [("contact", 1), ("contact", 2), ("contact", 3)] and '("ada") AND ("zedd" OR "zedda"' in sql
    hits, sql = match_sql("zedd", other)  # counted in the workspace's own terms: three there, a prefix
    assert hits == [("contact", 101), ("contact", 102), ("contact", 103)] and '"zedd"*' in sql


def plan_of(sql: str, gin: tuple[str, ...]) -> dict:
    """PostgreSQL: EXPLAIN ANALYZE of `sql` with sequential scans off and the `gin` indexes' pending lists merged
    (as autovacuum does): a test's table is small enough that the planner would read it whole, and inserts since
    the index was built wait in its pending list, which the planner prices as a scan of all of it. The question
    is what the indexes answer."""
    with connection.cursor() as cursor:
        for index in gin:
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
        cursor.execute("RESET enable_seqscan")
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def index_scans(node: dict) -> list[tuple[str, int]]:
    """(index name, rows it returned) of every index scan in a plan, in plan order."""
    own = [(node["Index Name"], node["Actual Rows"])] if "Index Name" in node else []
    return own + [scan for child in node.get("Plans", []) for scan in index_scans(child)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm's index (SQLite: an FTS5 trigram table)")
def test_the_typo_dictionary_reads_only_terms_of_a_close_length_from_its_index(admin):
    """PostgreSQL: the dictionary lookup of the typo fallback asks for terms within two letters of the word's
    length that share trigrams with it; the length is inside the trigram index (migration 0008), so terms that
    share the trigrams but are too long to be a correction ("wombatfan17" for "wombat", as seeded email addresses
    give) are never read. The index of 0001 returned every one of them to be filtered on the rows. The word is one
    no other test writes: the index keeps the entries of rows other tests inserted and rolled back until a vacuum,
    and every "customer" of the suite would be one for "custom"."""
    from threadline.search.models import SearchTerm
    from threadline.search.queries import corrections

    ws, other = admin.workspace_id, factories.make_workspace("Other").workspace_id
    SearchTerm.objects.bulk_create([SearchTerm(workspace_id=ws, term=t) for t in
                                    ["wombas", "wombats", "vombat", *(f"wombatfan{n}" for n in range(3000))]]
                                   + [SearchTerm(workspace_id=other, term="wombet")])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE search_term")
    assert corrections(ws, "wombat") == ["vombat", "wombas", "wombats"]  # distance 1, then alphabetical
    assert corrections(other, "wombat") == ["wombet"]
    with CaptureQueriesContext(connection) as ctx:
        backends.backend().similar_terms(ws, "wombat")
    [scan] = index_scans(plan_of(ctx.captured_queries[-1]["sql"], ("search_term_length_trgm",)))
    # the three, "wombet" of the other workspace, and any entries of rows rolled back; not the 3,000 "wombatfanN" (the index of 0001 returned every one of them)
    assert scan[0] == "search_term_length_trgm" and scan[1] <= 20, scan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's GIN indexes")
def test_the_gin_arm_of_messages_and_articles_reads_their_own_index(admin, monkeypatch):
    """PostgreSQL: past the walk, one word over the messages or the articles is asked of that kind's own GIN
    index (migration 0009, `backends.OWN_INDEX`), whatever the planner thinks of the other indexes: a word every
    contact holds and no message or article ('quokka':*) reads no posting there. With `document @@` the planner
    could take the workspace's index and read every contact holding it. The word is one no other test writes: a GIN
    index keeps the postings of rows other tests inserted and rolled back until a vacuum (none can run inside the
    test's transaction), and CI once read 56 such 'custom' messages here; with this word a full run read 5, this
    test alone 1."""
    ws = admin.workspace_id
    do_store([*(doc(ws, "contact", n, f"Quokkaboy {n}", f"quokkaboy{n}@example.com") for n in range(1, 40)),
              doc(ws, "message", 100, body="quokkas forms for the parcel"),
              doc(ws, "message", 101, body="where is my parcel"),
              doc(ws, "article", 102, "Quokkas", "Duties and quokkas forms"),
              doc(ws, "article", 103, "Returns", "Send the parcel back"),
              *(doc(ws, kind, n, f"Parcel {n}", "where is my parcel") for n in range(1000, 3000)
                for kind in ("message", "article"))])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE search_document")
    monkeypatch.setattr(backends, "SMALL_SCAN", 10)  # the walk holds no match: the GIN arm runs
    monkeypatch.setattr(backends, "MESSAGE_DENSE", 5)
    monkeypatch.setattr(backends, "DENSE", 5)
    for kind, index, hits in (("message", "search_document_message_lexemes", [("message", 100)]),
                              ("article", "search_document_article_lexemes", [("article", 102)])):
        assert found(ws, "quokkas", [kind]) == hits
        assert found(ws, "quokka", [kind]) == hits  # a prefix
        assert found(ws, "invoice", [kind]) == []
        with CaptureQueriesContext(connection) as ctx:
            find(ws, "quokka", kinds=[kind], visibilities=AGENT_VISIBILITIES, limit=20, typos=False)
        scans = index_scans(plan_of(ctx.captured_queries[-1]["sql"], (index,)))
        [(name, rows)] = [scan for scan in scans if scan[0] not in ("search_document_recent", "search_document_pkey")]
        assert name == index and rows < 39, (kind, scans)  # not the 39 contacts (the one, or a few dead postings)
