"""Cutting text for display on user-perceived characters (Unicode grapheme clusters, UAX #29, via the
`regex` module's `\\X`), so a cut never strands a Thai tone mark, a Hebrew point or half an emoji."""

from __future__ import annotations

import regex

GRAPHEME = regex.compile(r"\X")
ELLIPSIS = "…"


def cut(text: str, length: int) -> str:
    """At most `length` graphemes of `text`; when it was longer, `length - 1` of them and an ellipsis
    (trailing spaces dropped before it)."""
    if len(text) <= length:
        return text  # fewer code points than the limit: fewer graphemes too
    clusters = GRAPHEME.findall(text, concurrent=False)
    if len(clusters) <= length:
        return text
    return "".join(clusters[: max(length - 1, 0)]).rstrip() + ELLIPSIS
