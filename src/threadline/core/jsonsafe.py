"""Reading JSON from strangers: a nesting limit, so a body like `[[[[...]]]]` is a 400 and not a crash.

`json.loads` raises RecursionError (not a ValueError) on deep nesting, which unguarded views turn into a 500
and a logged traceback; and a document that loads can still be too deep for the code that walks it. `loads`
raises `Unreadable` (a ValueError) for both, and for bytes that are not JSON.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class Unreadable(ValueError):
    """Not JSON, or nested deeper than allowed."""


class TooDeep(Unreadable):
    """Nested deeper than allowed."""


def depth_of(document: Any, limit: int = MAX_DEPTH) -> int:
    """How deep `document` nests (walked without recursion; stops counting past `limit`)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def looks_like_json(body: bytes) -> bool:
    return body.lstrip()[:1] in (b"{", b"[")


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    try:
        document = json.loads(data)
    except RecursionError as exc:
        raise TooDeep("JSON nested too deeply") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Unreadable(f"not JSON: {exc}") from exc
    if depth_of(document, max_depth) > max_depth:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    return document
