"""The two implementations of the index's reads, chosen by the database vendor: SQLite FTS5 and PostgreSQL.

Both take the analysed query (`analysis.query_groups`: every group must match, any form within a group) and
answer ranked (kind, object_id) hits inside one workspace; titles weigh more than bodies (FTS5 `bm25` with
column weights 10 and 1; PostgreSQL `ts_rank` with weights A = 1.0 for titles, B = 0.4 for bodies). Typo
tolerance asks `similar_terms` for a workspace's dictionary terms that share trigrams with a query term.

At size (migration 0002, docs/search.md "At size"): each kind of the workspace is one slice of the index
(SQLite: a rowid range of the contentless FTS5 table; PostgreSQL: the workspace and kind inside the GIN index
and a b-tree on (workspace, kind, id)). Each slice answers its newest `WINDOW` matches, newest first without
scoring, and only those are ranked; the slices' hits are then merged by score. A query that matches more than
`WINDOW` documents of one kind ranks the newest `WINDOW` of them (pages go 500 deep at most, `schemas.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.db import connection

from threadline.search.models import Kind, Visibility

TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0
CANDIDATES = 200  # dictionary terms sharing trigrams with a query term, checked for edit distance in Python
WINDOW = 1000  # the newest matches of one kind that are ranked
SCAN = 50 * WINDOW  # PostgreSQL, several words: the newest documents of a kind walked before the GIN index is asked
SMALL_SCAN = 2 * WINDOW  # PostgreSQL, contacts and conversations: the newest documents walked first ...
DENSE = SMALL_SCAN // 20  # ... and the matches among them (5 %) above which the walk goes on rather than ask GIN
# One word over the messages is asked the same way, with a lower threshold (1 %): the kind is big, so its GIN
# arm reads more rows scattered over the table (10,977 'invoice':* matches at 3.5 %: 160 ms, where walking on
# to the window read 33,000 rows in 16 ms at 300,000 messages).
MESSAGE_DENSE = SMALL_SCAN // 100
# The kinds asked that way: the agents' small kinds and the articles. Articles kept the planner's choice at
# first (their documents are long, so the first walk cost search_articles 3-15 ms at 1,000,000 messages), but a
# word frequent elsewhere walked every article for none ('customer':*, the typo fallback's correction of "custom":
# all 15,000 translations, 20,930 buffers, 23-36 ms at 300,000 messages); walked to 2,000 and then asked of
# their own index it takes 2-7 ms.
DATA_DRIVEN = frozenset({Kind.CONTACT, Kind.CONVERSATION, Kind.ARTICLE})
# The kinds whose GIN arm names the expression of an index of their own (migration 0009), `strip(document)`
# (the lexemes without positions and weights: `@@` answers the same for the engine's queries, which ask no
# weight and no phrase), so that no other GIN index can serve it. With `document` the planner chose among the
# overlapping indexes by costs that do not see which kinds hold a word: 'custom':* over the messages took the
# workspace's index and read the 51,000 contacts holding it (86-122 ms at 300,000 messages, with fresh
# statistics and after VACUUM alike) instead of the messages' own, which holds none (0.01 ms).
OWN_INDEX = frozenset({Kind.MESSAGE, Kind.ARTICLE})
# SQLite: FTS5 answers a prefix by merging the postings of every term it begins, so a prefix that begins
# hundreds of thousands of distinct terms costs that many lookups whatever the rowid range and the limit
# ('custom'* over the benches' 170,000-500,000 "customer<N>" addresses: 63-171 ms in the contacts list,
# docs/performance.md). A prefix that begins more than DENSE_PREFIX of the workspace's dictionary terms
# (`search_term`, the terms of four or more characters) is asked as the prefix itself and its first
# PREFIX_TERMS terms in the dictionary's order instead.
DENSE_PREFIX = 1000
PREFIX_TERMS = 64
# The SQLite key (migration 0002): workspace_id << 41 | kind code << 37 | internal << 36 | document id
KEY_WORKSPACE, KEY_KIND, KEY_INTERNAL = 41, 37, 36
ID_MASK = (1 << KEY_INTERNAL) - 1


@dataclass(frozen=True)
class Hit:
    kind: str
    object_id: int
    score: float  # higher is better


class Backend(Protocol):
    def match(self, workspace_id: int, groups: Sequence[Sequence[str]], *, kinds: Sequence[str],
              visibilities: Sequence[str], limit: int, offset: int = 0, prefix_last: bool = False) -> list[Hit]: ...

    def similar_terms(self, workspace_id: int, term: str) -> list[str]: ...

    def holds(self, workspace_id: int, term: str) -> bool: ...

    def compact(self) -> None: ...


class SQLiteBackend:
    def expression(self, groups: Sequence[Sequence[str]], prefix_last: bool,
                   dense: dict[str, list[str]] | None = None) -> str:
        """An FTS5 MATCH expression; terms are analysed words (letters, digits, marks), so quoting is enough.
        The last group's terms match as prefixes with `prefix_last`, but a prefix in `dense` (`dense_prefixes`)
        as itself and the terms it maps to."""
        parts = []
        for i, group in enumerate(groups):
            last = prefix_last and i == len(groups) - 1
            forms = []
            for term in group:
                if last and dense and term in dense:
                    forms.extend(f'"{form}"' for form in dict.fromkeys([term, *dense[term]]))
                else:
                    forms.append(f'"{term}"*' if last else f'"{term}"')
            parts.append("(" + " OR ".join(forms) + ")")
        return " AND ".join(parts)

    def dense_prefixes(self, workspace_id: int, terms: Sequence[str]) -> dict[str, list[str]]:
        """Of `terms` (asked as prefixes), those that begin more than DENSE_PREFIX of the workspace's dictionary
        terms, each with its first PREFIX_TERMS of them (an index range of `search_term_unique`)."""
        dense: dict[str, list[str]] = {}
        with connection.cursor() as cursor:
            for term in dict.fromkeys(terms):
                if not term or ord(term[-1]) >= 0x10FFFF:
                    continue
                cursor.execute("SELECT term FROM search_term WHERE workspace_id = %s AND term >= %s AND term < %s "
                               "ORDER BY term LIMIT %s",
                               [workspace_id, term, term[:-1] + chr(ord(term[-1]) + 1), DENSE_PREFIX + 1])
                found = [row[0] for row in cursor.fetchall()]
                if len(found) > DENSE_PREFIX:
                    dense[term] = found[:PREFIX_TERMS]
        return dense

    def ranges(self, workspace_id: int, kinds: Sequence[str], visibilities: Sequence[str]) -> Iterator[tuple[int, int]]:
        """The rowid range of each kind's slice of the workspace, narrowed to public or internal documents when
        only one of them is asked for (any visibility but public is keyed as internal)."""
        public = Visibility.PUBLIC in visibilities
        internal = any(v != Visibility.PUBLIC for v in visibilities)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT name, code FROM search_kind WHERE name IN ({', '.join(['%s'] * len(kinds))})",
                           list(kinds))
            codes = dict(cursor.fetchall())
        for kind in dict.fromkeys(kinds):
            if kind in codes:
                base = workspace_id << KEY_WORKSPACE | codes[kind] << KEY_KIND
                yield (base | (0 if public else 1) << KEY_INTERNAL,
                       base | (1 if internal else 0) << KEY_INTERNAL | ID_MASK)

    def match(self, workspace_id: int, groups: Sequence[Sequence[str]], *, kinds: Sequence[str],
              visibilities: Sequence[str], limit: int, offset: int = 0, prefix_last: bool = False) -> list[Hit]:
        if not groups or not kinds or not visibilities:
            return []
        ranges = list(self.ranges(workspace_id, kinds, visibilities))
        if not ranges:
            return []
        dense = self.dense_prefixes(workspace_id, groups[-1]) if prefix_last else {}
        expression = self.expression(groups, prefix_last, dense)
        arm = (f"SELECT k, s FROM (SELECT rowid AS k, bm25(search_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS s "
               "FROM search_fts WHERE search_fts MATCH %s AND rowid BETWEEN %s AND %s ORDER BY rowid DESC LIMIT %s)")
        sql = (f"SELECT d.kind, d.object_id, h.s FROM (SELECT k, s FROM ({' UNION ALL '.join([arm] * len(ranges))}) "
               f"ORDER BY s, (k & {ID_MASK}) DESC LIMIT %s OFFSET %s) h "
               f"JOIN search_document d ON d.id = (h.k & {ID_MASK}) ORDER BY h.s, d.id DESC")
        params: list[object] = [p for low, high in ranges for p in (expression, low, high, WINDOW)]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit, offset])
            return [Hit(kind, object_id, -score) for kind, object_id, score in cursor.fetchall()]

    def similar_terms(self, workspace_id: int, term: str) -> list[str]:
        trigrams = sorted({term[i:i + 3] for i in range(len(term) - 2)})
        if not trigrams:
            return []
        sql = ("SELECT t.term FROM search_term_fts JOIN search_term t ON t.id = search_term_fts.rowid "
               "WHERE search_term_fts MATCH %s AND t.workspace_id = %s AND length(t.term) BETWEEN %s AND %s "
               "ORDER BY rank LIMIT %s")
        with connection.cursor() as cursor:
            cursor.execute(sql, [" OR ".join(f'"{t}"' for t in trigrams), workspace_id, len(term) - 2,
                                 len(term) + 2, CANDIDATES])
            return [row[0] for row in cursor.fetchall()]

    def holds(self, workspace_id: int, term: str) -> bool:
        """Whether any document of the workspace holds `term` (any kind, any visibility): its rowid range."""
        sql = "SELECT 1 FROM search_fts WHERE search_fts MATCH %s AND rowid BETWEEN %s AND %s LIMIT 1"
        with connection.cursor() as cursor:
            cursor.execute(sql, [f'"{term}"', workspace_id << KEY_WORKSPACE, ((workspace_id + 1) << KEY_WORKSPACE) - 1])
            return cursor.fetchone() is not None

    def compact(self) -> None:
        """Merge the FTS5 segments into one, so deleted rows' terms leave the index's pages (after an erasure)."""
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
            cursor.execute("INSERT INTO search_term_fts(search_term_fts) VALUES ('optimize')")


class PostgreSQLBackend:
    # One kind's newest WINDOW matches. The planner walks the b-tree (workspace_id, kind, id) newest first for
    # a frequent word and takes the GIN index for a rare one, from its estimate of the matches.
    INDEX_ONLY = ("(SELECT id, kind, object_id, document FROM search_document WHERE workspace_id = %s AND kind = %s "
                  "AND visibility = ANY(%s) AND document @@ to_tsquery('simple', %s) ORDER BY id DESC LIMIT %s)",
                  ("workspace_id", "kind", "visibilities", "expression", "window"))
    # Several words: the estimate multiplies the words' frequencies, so words that always occur together
    # ("charged twice": 417 rows estimated, 11,047 found) look rare, the GIN bitmap is chosen and every match is
    # read and sorted (170-450 ms). So the newest SCAN documents of the kind are walked first (stopping at
    # WINDOW matches), and only when they hold fewer is the GIN index asked for the older ones: the LIMIT over
    # the UNION ALL never starts its second arm once the first has filled it.
    WALK_FIRST = (
        "(SELECT * FROM ((SELECT id, kind, object_id, document FROM (SELECT id, kind, object_id, document, visibility "
        "FROM search_document WHERE workspace_id = %s AND kind = %s ORDER BY id DESC LIMIT %s) newest "
        "WHERE visibility = ANY(%s) AND document @@ to_tsquery('simple', %s)) UNION ALL "
        "(SELECT id, kind, object_id, document FROM search_document WHERE workspace_id = %s AND kind = %s "
        "AND visibility = ANY(%s) AND {fts} @@ to_tsquery('simple', %s) AND id < (SELECT min(id) FROM "
        "(SELECT id FROM search_document WHERE workspace_id = %s AND kind = %s ORDER BY id DESC LIMIT %s) walked) "
        "ORDER BY id DESC)) both_arms LIMIT %s)",
        ("workspace_id", "kind", "scan", "visibilities", "expression", "workspace_id", "kind", "visibilities",
         "expression", "workspace_id", "kind", "scan", "window"))

    # The agents' small kinds (contacts, conversations) share the column's statistics with the messages,
    # so a word frequent in messages looks frequent in the contacts too ('חשבו':* estimated at 14,846 of
    # 166,666 contacts, none there) and the planner walks the b-tree newest first over the whole kind for a
    # window no document fills (197 ms at 1,000,000 messages); a word frequent in the contacts but rare in
    # messages ("gmail") gets the GIN bitmap of every match instead. So the documents decide, not the
    # statistics: the kind's newest SMALL_SCAN documents are walked first (a frequent word fills the window
    # there and nothing else runs); when they hold fewer matches, the older documents are asked in one of two
    # ways, chosen by how many the walk found (one-time filters: the other arm never starts): at least DENSE,
    # the walk goes on down the b-tree (`ts_match_vq`, the function behind `@@`, which no index serves), else
    # the small kinds' GIN index (migration 0005) reads the few older matches (ordered by `id + 0`, which the
    # b-tree cannot give). CTE scans are read on demand, so the walk stops where the window is full. Only one
    # word (`indexed`) is given to the GIN index there, the others checked on its rows: with all of them the
    # estimate of several words is tiny and the planner takes the whole table's GIN index (workspace, document),
    # reading every message that holds them (a Hebrew phrase over the contacts: 18,180 rows, 243 ms); with one
    # word it estimates as for a one-word query, and a word frequent in messages goes to the small kinds' index.
    # One word over the messages takes this statement too (the mirror case: 'custom':*, in every contact's email
    # address and no message, was estimated at 32,000 messages and all 300,000 were walked, 571 ms), with
    # MESSAGE_DENSE, and its GIN arm reads the messages' own index (migration 0009, `OWN_INDEX`).
    SMALL_KIND = (
        "(WITH walk AS MATERIALIZED (SELECT id, kind, object_id, document, visibility FROM search_document "
        "WHERE workspace_id = %s AND kind = %s ORDER BY id DESC LIMIT %s), "
        "found AS MATERIALIZED (SELECT id, kind, object_id, document FROM walk "
        "WHERE visibility = ANY(%s) AND document @@ to_tsquery('simple', %s)) "
        "SELECT * FROM ((SELECT * FROM found) UNION ALL "
        "(SELECT id, kind, object_id, document FROM search_document WHERE workspace_id = %s AND kind = %s "
        "AND visibility = ANY(%s) AND ts_match_vq(document, to_tsquery('simple', %s)) "
        "AND id < (SELECT min(id) FROM walk) AND (SELECT count(*) FROM found) >= %s ORDER BY id DESC LIMIT %s) "
        "UNION ALL (SELECT id, kind, object_id, document FROM search_document WHERE workspace_id = %s AND kind = %s "
        "AND visibility = ANY(%s) AND {fts} @@ to_tsquery('simple', %s) "
        "AND ts_match_vq(document, to_tsquery('simple', %s)) "
        "AND id + 0 < (SELECT min(id) FROM walk) AND (SELECT count(*) FROM found) < %s ORDER BY id + 0 DESC)"
        ") arms LIMIT %s)",
        ("workspace_id", "kind", "small_scan", "visibilities", "expression",
         "workspace_id", "kind", "visibilities", "expression", "dense", "window",
         "workspace_id", "kind", "visibilities", "indexed", "expression", "dense", "window"))

    def expression(self, groups: Sequence[Sequence[str]], prefix_last: bool) -> str:
        """A tsquery for `to_tsquery('simple', ...)`; terms are analysed words, so quoting is enough."""
        parts = []
        for i, group in enumerate(groups):
            star = ":*" if prefix_last and i == len(groups) - 1 else ""
            parts.append("(" + " | ".join(f"'{term}'{star}" for term in group) + ")")
        return " & ".join(parts)

    @staticmethod
    def indexed(groups: Sequence[Sequence[str]], prefix_last: bool) -> Sequence[str]:
        """The query word the small kinds' GIN arm gives the index: the longest (rarer, as a rule), a whole word
        before the prefix (a prefix reads every word it begins)."""
        last = len(groups) - 1
        return max(groups, key=lambda group: (not (prefix_last and group is groups[last]), min(map(len, group))))

    def arm(self, kind: str, several: bool) -> tuple[str, tuple[str, ...]]:
        """The statement that finds one kind's newest WINDOW matches: the documents decide for the small kinds,
        the articles and one word over the messages; several words over the messages walk SCAN documents first.
        The GIN arm of a kind with an index of its own names that index's expression (`OWN_INDEX`)."""
        if kind in DATA_DRIVEN or (kind == Kind.MESSAGE and not several):
            sql, names = self.SMALL_KIND
        else:
            sql, names = self.WALK_FIRST if several else self.INDEX_ONLY
        return sql.format(fts="strip(document)" if kind in OWN_INDEX else "document"), names

    def match(self, workspace_id: int, groups: Sequence[Sequence[str]], *, kinds: Sequence[str],
              visibilities: Sequence[str], limit: int, offset: int = 0, prefix_last: bool = False) -> list[Hit]:
        if not groups or not kinds or not visibilities:
            return []
        kinds = list(dict.fromkeys(kinds))
        expression = self.expression(groups, prefix_last)
        several = len(groups) > 1
        chosen = self.indexed(groups, prefix_last)
        indexed = self.expression([chosen], prefix_last and chosen is groups[-1])
        arms = [self.arm(kind, several) for kind in kinds]
        sql = ("SELECT c.kind, c.object_id, ts_rank(c.document, to_tsquery('simple', %s)) AS score "
               f"FROM ({' UNION ALL '.join(arm for arm, _ in arms)}) c ORDER BY score DESC, c.id DESC LIMIT %s OFFSET %s")
        values = {"expression": expression, "visibilities": list(visibilities), "workspace_id": workspace_id,
                  "window": WINDOW, "scan": SCAN, "small_scan": SMALL_SCAN, "indexed": indexed}
        params: list[object] = [expression]
        for kind, (_, arm_params) in zip(kinds, arms, strict=True):
            own = {"kind": kind, "dense": MESSAGE_DENSE if kind == Kind.MESSAGE else DENSE}
            params += [own.get(name, values.get(name)) for name in arm_params]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit, offset])
            return [Hit(kind, object_id, float(score)) for kind, object_id, score in cursor.fetchall()]

    def similar_terms(self, workspace_id: int, term: str) -> list[str]:
        sql = ("SELECT term FROM search_term WHERE workspace_id = %s AND term %% %s "
               "AND length(term) BETWEEN %s AND %s ORDER BY similarity(term, %s) DESC LIMIT %s")
        with connection.cursor() as cursor:
            cursor.execute(sql, [workspace_id, term, len(term) - 2, len(term) + 2, term, CANDIDATES])
            return [row[0] for row in cursor.fetchall()]

    def holds(self, workspace_id: int, term: str) -> bool:
        """Whether any document of the workspace holds `term` (any kind, any visibility)."""
        sql = ("SELECT 1 FROM search_document WHERE workspace_id = %s "
               "AND document @@ to_tsquery('simple', %s) LIMIT 1")
        with connection.cursor() as cursor:
            cursor.execute(sql, [workspace_id, f"'{term}'"])
            return cursor.fetchone() is not None

    def compact(self) -> None:
        """Deleted rows are gone from every query at once; autovacuum reclaims their space."""


def backend() -> Backend:
    return PostgreSQLBackend() if connection.vendor == "postgresql" else SQLiteBackend()
