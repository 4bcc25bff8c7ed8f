"""Reads of the search index: ranked, workspace-scoped, typo-tolerant hits (no domain rows: `results.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from threadline.search.analysis import query_groups
from threadline.search.backends import Hit, backend
from threadline.search.models import Kind, Visibility

MAX_QUERY = 200  # characters
MAX_GROUPS = 12  # words of a query
MIN_TYPO_TERM = 4
MAX_CORRECTIONS = 4  # dictionary terms tried per misspelt word
AGENT_KINDS = (Kind.CONVERSATION, Kind.MESSAGE, Kind.CONTACT)
AGENT_VISIBILITIES = (Visibility.PUBLIC, Visibility.INTERNAL)


@dataclass
class Found:
    hits: list[Hit]
    groups: list[tuple[str, ...]]  # the analysed query, with corrections when `corrected`
    prefix_last: bool
    corrected: bool = False
    objects: dict[tuple[str, int], Any] = field(default_factory=dict)


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _allowed_distance(term: str) -> int:
    return 1 if len(term) <= 5 else 2


def corrections(workspace_id: int, term: str) -> list[str]:
    """The workspace's dictionary terms within a small edit distance of `term` (closest first)."""
    if len(term) < MIN_TYPO_TERM or term.isdigit():
        return []
    limit = _allowed_distance(term)
    scored = [(edit_distance(term, c), c) for c in backend().similar_terms(workspace_id, term) if c != term]
    return [c for d, c in sorted(scored) if d <= limit][:MAX_CORRECTIONS]


def _corrected(workspace_id: int, groups: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return [tuple(dict.fromkeys((*group, *corrections(workspace_id, group[0])))) for group in groups]


def find(workspace_id: int, query: str, *, kinds: Sequence[str], visibilities: Sequence[str], limit: int,
         offset: int = 0) -> Found:
    """Hits for `query` in the workspace, best first. A query that finds nothing exactly is run again with
    each word's close spellings from the workspace's dictionary (typo tolerance), for every page alike."""
    groups = query_groups((query or "")[:MAX_QUERY])[:MAX_GROUPS]
    if not groups:
        return Found([], [], False)
    prefix_last = len(groups[-1][0]) >= 3
    engine = backend()

    def run(terms: list[tuple[str, ...]], limit: int, offset: int) -> list[Hit]:
        return engine.match(workspace_id, terms, kinds=kinds, visibilities=visibilities, limit=limit, offset=offset,
                            prefix_last=prefix_last)

    hits = run(groups, limit, offset)
    if hits or (offset and run(groups, 1, 0)):
        return Found(hits, groups, prefix_last)
    wider = _corrected(workspace_id, groups)
    if wider == groups:
        return Found(hits, groups, prefix_last)
    hits = run(wider, limit, offset)
    return Found(hits, wider, prefix_last, corrected=bool(hits))


def contact_ids(workspace_id: int, query: str, *, limit: int) -> list[int]:
    """Contacts whose name, addresses or display names match `query` (fragments too), best first."""
    found = find(workspace_id, query, kinds=[Kind.CONTACT], visibilities=AGENT_VISIBILITIES, limit=limit)
    return [h.object_id for h in found.hits]
