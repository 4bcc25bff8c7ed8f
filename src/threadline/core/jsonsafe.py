"""Reading JSON from strangers: a nesting limit, so a body like `[[[[...]]]]` is a 400 and not a crash.

`json.loads` raises RecursionError (not a ValueError) on deep nesting, which unguarded views turn into a 500
and a logged traceback; and a document that loads can still be too deep for the code that walks it. `loads`
raises `Unreadable` (a ValueError) for both, and for bytes that are not JSON.

A body nested past the limit is refused by counting its brackets before it is parsed: letting `json.loads` recurse
down to the interpreter's recursion limit is not harmless, because a garbage collection that starts down there runs
the finalizers of whatever it frees with no stack left (a socket's close fails with RecursionError, reported as an
unraisable exception).
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

MAX_DEPTH = 64


class Unreadable(ValueError):
    """Not JSON, or nested deeper than allowed."""


class TooDeep(Unreadable):
    """Nested deeper than allowed."""


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
# `[` and `{` become +1, `]` and `}` -1 (as signed bytes), everything else goes
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(code for code in range(256) if code not in b"[]{}")


def nests_deeper(data: bytes, limit: int) -> bool:
    """True when the brackets outside string literals nest deeper than `limit`, found without parsing or
    recursing, in time linear in the body (the running sum of +1 per opening and -1 per closing bracket, summed
    in C); a bracket opened and never closed counts, one closed too often only lowers the sum (the parse that
    follows refuses both)."""
    if data.count(b"[") + data.count(b"{") <= limit:  # most bodies: too few brackets to be that deep
        return False
    steps = _STRINGS.sub(b"", data).translate(_STEPS, _NOT_BRACKETS)
    return bool(steps) and max(itertools.accumulate(memoryview(steps).cast("b"))) > limit


def looks_like_json(body: bytes) -> bool:
    return body.lstrip()[:1] in (b"{", b"[")


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if nests_deeper(raw, max_depth):
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    try:
        document = json.loads(data)
    except RecursionError as exc:
        raise TooDeep("JSON nested too deeply") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Unreadable(f"not JSON: {exc}") from exc
    return document  # as deep as its brackets, which `nests_deeper` counted
