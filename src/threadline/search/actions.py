"""Writes to the search index (the caller owns the transaction). Documents are rebuilt from the objects'
current rows, so indexing is idempotent: indexing an object again, or one that is gone, is always right."""

from __future__ import annotations

from collections.abc import Iterable

from threadline.core.row_writes import insert_rows
from threadline.search import documents
from threadline.search.analysis import terms_of
from threadline.search.backends import backend
from threadline.search.documents import Document
from threadline.search.models import SearchDocument, SearchTerm

MIN_TYPO_TERM = 4  # shorter terms are not corrected (too many neighbours)
MAX_TERMS_PER_DOCUMENT = 300


def _dictionary_terms(document: Document) -> set[str]:
    terms = {t for t in f"{document.title} {document.body}".split() if len(t) >= MIN_TYPO_TERM and not t.isdigit()}
    return set(sorted(terms)[:MAX_TERMS_PER_DOCUMENT])


def do_store(docs: list[Document]) -> None:
    """Insert or replace these documents (one statement), and add their terms to the typo dictionary (one)."""
    if not docs:
        return
    insert_rows(  # the SQL compiled once per number of rows (core.row_writes): the pipeline's hot path
        [SearchDocument(workspace_id=d.workspace_id, kind=d.kind, object_id=d.object_id, title=d.title,
                        body=d.body, visibility=d.visibility) for d in docs],
        conflicts="update", unique_fields=["kind", "object_id"],
        update_fields=["workspace_id", "title", "body", "visibility", "updated_at"],
    )
    terms = {(d.workspace_id, t) for d in docs for t in _dictionary_terms(d)}
    if terms:
        insert_rows([SearchTerm(workspace_id=w, term=t) for w, t in sorted(terms)], conflicts="ignore")


def do_index(kind: str, ids: Iterable[int]) -> None:
    """(Re)index these objects of `kind` from their rows; ids whose object is gone (or merged) are removed."""
    wanted = set(ids)
    if not wanted:
        return
    docs = documents.BUILDERS[kind](wanted)
    do_store(docs)
    do_remove(kind, wanted - {d.object_id for d in docs})


def do_remove(kind: str, ids: Iterable[int]) -> int:
    ids = list(ids)
    if not ids:
        return 0
    return SearchDocument.objects.filter(kind=kind, object_id__in=ids).delete()[0]


def do_forget_terms(workspace_id: int, terms: Iterable[str]) -> int:
    """Drop dictionary terms that no document of the workspace holds any more (after an erasure or a redaction),
    so no word of removed text survives in the typo dictionary. Returns how many went."""
    engine = backend()
    gone = [t for t in set(terms) if len(t) >= MIN_TYPO_TERM and not engine.holds(workspace_id, t)]
    if gone:
        SearchTerm.objects.filter(workspace_id=workspace_id, term__in=gone).delete()
    return len(gone)


def do_erase(workspace_id: int, removed: dict[str, Iterable[int]]) -> None:
    """Remove an erased contact's documents, the terms only they held, and (SQLite) rewrite the index pages."""
    rows = SearchDocument.objects.filter(workspace_id=workspace_id)
    terms: set[str] = set()
    for kind, ids in removed.items():
        ids = list(ids)
        for title, body in rows.filter(kind=kind, object_id__in=ids).values_list("title", "body").iterator():
            terms |= set(f"{title} {body}".split())
        do_remove(kind, ids)
    do_forget_terms(workspace_id, terms)
    backend().compact()


def do_reindex_redacted(workspace_id: int, message_id: int, conversation_id: int, secret: str) -> None:
    """After a redaction: index the message and its conversation's subject again, forget the secret's terms."""
    do_index("message", [message_id])
    do_index("conversation", [conversation_id])
    do_forget_terms(workspace_id, terms_of(secret))
