"""Reads of the search index: ranked, workspace-scoped, typo-tolerant hits (no domain rows: `results.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from threadline.search.analysis import has_thai, query_groups
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


def _whole_thai_runs(query: str, groups: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Thai runs the segmenter cut into pieces, joined again: a typo or the start of a compound breaks the
    segmentation ("ใบแจงหนี้" → "ใบ", "แจง", "หนี้"; "ใบแจ้ง" → "ใบ", "แจ้ง") and the pieces then find nothing,
    while the whole run is one word to correct ("ใบแจ้งหนี้") or, last in the query, a prefix of one."""
    result = list(groups)
    for chunk in query.split():
        pieces = query_groups(chunk) if has_thai(chunk) else []
        at = [i for i, group in enumerate(result) if group in pieces]
        if len(pieces) < 2 or len(at) != len(pieces):
            continue
        joined = ("".join(piece[0] for piece in pieces),)
        result = [joined if i == at[0] else group for i, group in enumerate(result) if i not in at[1:]]
    return result


def _prefix_last(groups: list[tuple[str, ...]]) -> bool:
    """The last query word of three or more characters also matches as a prefix (typing as you search)."""
    return len(groups[-1][0]) >= 3


def find(workspace_id: int, query: str, *, kinds: Sequence[str], visibilities: Sequence[str], limit: int,
         offset: int = 0, typos: bool = True) -> Found:
    """Hits for `query` in the workspace, best first. A query that finds nothing exactly is run again with
    each word's close spellings from the workspace's dictionary (typo tolerance) and its Thai runs whole, for
    every page alike (not with `typos=False`: the caller then asks `find_widened` when nothing else found)."""
    groups = analysed(query)
    if not groups:
        return Found([], [], False)
    hits = _run(workspace_id, groups, kinds, visibilities, limit, offset)
    if hits or not typos or (offset and _run(workspace_id, groups, kinds, visibilities, 1, 0)):
        return Found(hits, groups, _prefix_last(groups))
    wider = widened(workspace_id, query)
    if wider is None:
        return Found(hits, groups, _prefix_last(groups))
    return find_widened(workspace_id, wider, kinds=kinds, visibilities=visibilities, limit=limit, offset=offset)


def analysed(query: str) -> list[tuple[str, ...]]:
    return query_groups((query or "")[:MAX_QUERY])[:MAX_GROUPS]


def widened(workspace_id: int, query: str) -> list[tuple[str, ...]] | None:
    """The query with each word's close spellings and its Thai runs whole; None when that adds nothing."""
    groups = analysed(query)
    wider = _corrected(workspace_id, _whole_thai_runs(query[:MAX_QUERY], groups)) if groups else groups
    return None if wider == groups else wider


def find_widened(workspace_id: int, wider: list[tuple[str, ...]], *, kinds: Sequence[str],
                 visibilities: Sequence[str], limit: int, offset: int = 0) -> Found:
    hits = _run(workspace_id, wider, kinds, visibilities, limit, offset)
    return Found(hits, wider, _prefix_last(wider), corrected=bool(hits))


def _run(workspace_id: int, groups: list[tuple[str, ...]], kinds: Sequence[str], visibilities: Sequence[str],
         limit: int, offset: int) -> list[Hit]:
    return backend().match(workspace_id, groups, kinds=kinds, visibilities=visibilities, limit=limit, offset=offset,
                           prefix_last=_prefix_last(groups))


def contact_ids(workspace_id: int, query: str, *, limit: int) -> list[int]:
    """Contacts whose name, addresses or display names match `query` (fragments too), best first."""
    found = find(workspace_id, query, kinds=[Kind.CONTACT], visibilities=AGENT_VISIBILITIES, limit=limit)
    return [h.object_id for h in found.hits]
