"""Strangers' JSON: nesting past the limit is refused before any parse recurses into it."""

from __future__ import annotations

import json

import pytest

from threadline.core import jsonsafe


@pytest.mark.parametrize(("body", "deeper"), [
    (b"[" * 65 + b"]" * 65, True),
    (b'{"a":' * 65 + b"1" + b"}" * 65, True),
    (b"[" * 100_000, True),  # opened and never closed: as deep as it opens
    (b'[' + b'[],' * 10_000 + b'[' * 70 + b']' * 70 + b']', True),  # one deep branch among many shallow ones
    (b"[" * 64 + b"]" * 64, False),
    (b'{"a":' * 64 + b"1" + b"}" * 64, False),
    (b'[' + b'[1, {"a": "b"}],' * 10_000 + b'[]]', False),
    (b'{"a": "' + b"[" * 200 + b'\\"[{", "b": ["x"]}', False),  # brackets inside strings, an escaped quote
    (b"]" * 200, False),
])
def test_depth_is_counted_on_the_raw_bytes(body, deeper):
    assert jsonsafe.nests_deeper(body, 64) is deeper


def test_a_deep_body_never_reaches_the_parser_or_the_recursion_limit(monkeypatch):
    """The parse is not even tried: `json.loads` recursing down to the interpreter's limit lets a garbage
    collection run finalizers with no stack left (seen as an unraisable RecursionError in the suite)."""
    calls = []
    monkeypatch.setattr(jsonsafe.json, "loads", lambda data: calls.append(data))
    for body in (b'{"token": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "[" * 5_000):
        with pytest.raises(jsonsafe.TooDeep):
            jsonsafe.loads(body)
    assert calls == []


def test_what_is_within_the_limit_still_parses():
    document = {"a": "שלום [[[ \\", "b": [[[1]]]}
    assert jsonsafe.loads(json.dumps(document, ensure_ascii=False)) == document
    assert jsonsafe.loads(json.dumps(document).encode()) == document
    with pytest.raises(jsonsafe.Unreadable):
        jsonsafe.loads(b"]]]]" * 40)
