"""The two implementations of the index's reads, chosen by the database vendor: SQLite FTS5 and PostgreSQL.

Both take the analysed query (`analysis.query_groups`: every group must match, any form within a group) and
answer ranked (kind, object_id) hits inside one workspace; titles weigh more than bodies (FTS5 `bm25` with
column weights 10 and 1; PostgreSQL `ts_rank` with weights A = 1.0 for titles, B = 0.4 for bodies). Typo
tolerance asks `similar_terms` for a workspace's dictionary terms that share trigrams with a query term.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from django.db import connection

TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0
CANDIDATES = 200  # dictionary terms sharing trigrams with a query term, checked for edit distance in Python


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


def _placeholders(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


class SQLiteBackend:
    def expression(self, groups: Sequence[Sequence[str]], prefix_last: bool) -> str:
        """An FTS5 MATCH expression; terms are analysed words (letters, digits, marks), so quoting is enough."""
        parts = []
        for i, group in enumerate(groups):
            star = "*" if prefix_last and i == len(groups) - 1 else ""
            parts.append("(" + " OR ".join(f'"{term}"{star}' for term in group) + ")")
        return " AND ".join(parts)

    def match(self, workspace_id: int, groups: Sequence[Sequence[str]], *, kinds: Sequence[str],
              visibilities: Sequence[str], limit: int, offset: int = 0, prefix_last: bool = False) -> list[Hit]:
        if not groups or not kinds or not visibilities:
            return []
        sql = (f"SELECT d.kind, d.object_id, bm25(search_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS score "
               "FROM search_fts JOIN search_document d ON d.id = search_fts.rowid "
               f"WHERE search_fts MATCH %s AND d.workspace_id = %s AND d.kind IN ({_placeholders(kinds)}) "
               f"AND d.visibility IN ({_placeholders(visibilities)}) ORDER BY score, d.id DESC LIMIT %s OFFSET %s")
        params = [self.expression(groups, prefix_last), workspace_id, *kinds, *visibilities, limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
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
        """Whether any document of the workspace holds `term` (any kind, any visibility)."""
        sql = ("SELECT 1 FROM search_fts JOIN search_document d ON d.id = search_fts.rowid "
               "WHERE search_fts MATCH %s AND d.workspace_id = %s LIMIT 1")
        with connection.cursor() as cursor:
            cursor.execute(sql, [f'"{term}"', workspace_id])
            return cursor.fetchone() is not None

    def compact(self) -> None:
        """Merge the FTS5 segments into one, so deleted rows' terms leave the index's pages (after an erasure)."""
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
            cursor.execute("INSERT INTO search_term_fts(search_term_fts) VALUES ('optimize')")


class PostgreSQLBackend:
    def expression(self, groups: Sequence[Sequence[str]], prefix_last: bool) -> str:
        """A tsquery for `to_tsquery('simple', ...)`; terms are analysed words, so quoting is enough."""
        parts = []
        for i, group in enumerate(groups):
            star = ":*" if prefix_last and i == len(groups) - 1 else ""
            parts.append("(" + " | ".join(f"'{term}'{star}" for term in group) + ")")
        return " & ".join(parts)

    def match(self, workspace_id: int, groups: Sequence[Sequence[str]], *, kinds: Sequence[str],
              visibilities: Sequence[str], limit: int, offset: int = 0, prefix_last: bool = False) -> list[Hit]:
        if not groups or not kinds or not visibilities:
            return []
        sql = ("SELECT d.kind, d.object_id, ts_rank(d.document, q) AS score "
               "FROM search_document d, to_tsquery('simple', %s) q "
               "WHERE d.document @@ q AND d.workspace_id = %s AND d.kind = ANY(%s) AND d.visibility = ANY(%s) "
               "ORDER BY score DESC, d.id DESC LIMIT %s OFFSET %s")
        params = [self.expression(groups, prefix_last), workspace_id, list(kinds), list(visibilities), limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
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
