"""Highlighting on the original text: the same analysis finds which of its words the query matched, so Thai
words inside unspaced text, Hebrew words with prefixes and Czech words without diacritics are marked as
written (the index only holds analysed text, so FTS5's `snippet()` would show normalised forms)."""

from __future__ import annotations

from collections.abc import Sequence

from threadline.search.analysis import words

Part = tuple[str, bool]  # (text, matched)


def _matches(forms: set[str], prefixes: tuple[str, ...], term: str, variants: tuple[str, ...]) -> bool:
    mine = {term, *variants}
    return bool(mine & forms) or (bool(prefixes) and any(t.startswith(prefixes) for t in mine))


def highlight(text: str, groups: Sequence[Sequence[str]], *, width: int = 60, prefix_last: bool = False,
              whole: bool = False) -> list[Part]:
    """`text` cut to about `width` characters either side of its first match (all of it when `whole`), as
    parts with the matched words marked."""
    forms = {t for group in groups for t in group}
    prefixes = tuple(groups[-1]) if prefix_last and groups else ()
    hits = [(w.start, w.end) for w in words(text, containing=forms) if _matches(forms, prefixes, w.term, w.variants)]
    start, end = 0, len(text)
    if not whole:
        first = hits[0][0] if hits else 0
        start = max(0, first - width)
        end = min(len(text), (hits[0][1] if hits else 0) + width * 2)
        while start > 0 and not text[start - 1].isspace() and first - start < width + 20:
            start -= 1  # do not cut a word in two
    parts: list[Part] = [("…", False)] if start else []
    at = start
    for hit_start, hit_end in hits:
        if hit_end <= start or hit_start >= end:
            continue
        if hit_start > at:
            parts.append((text[at:hit_start], False))
        parts.append((text[max(at, hit_start):hit_end], True))
        at = hit_end
    if at < end:
        parts.append((text[at:end], False))
    if end < len(text):
        parts.append(("…", False))
    return parts
