"""The stdlib's `email.policy.default`, with each header value parsed once instead of at every read of it.

The stdlib builds a new header object (its whole parse tree) at each `message.get(name)`: parsing one inbound
email, its loop and bounce checks and its redaction asked for its Content-Type ~20 times and ~35 headers in
all, a third of the worker's time per email (issue 11). That parse is a pure function of the header's name and
raw value, and header objects are immutable, so short values are kept in a small process-wide LRU (shared by
threads; Content-Type, To and MIME-Version repeat across messages too). Writing headers is untouched: a header
set on a message is stored as its object and read back as is.
"""

from __future__ import annotations

import email
import email.policy
import functools
import threading
from email.message import Message

CACHED_HEADER_CHARS = 2000  # longer values (a huge thread's References) are parsed each time, never kept


@functools.lru_cache(maxsize=1024)
def _parsed_header(name: str, value: str) -> object:
    return email.policy.default.header_fetch_parse(name, value)


class CachedHeaderPolicy(email.policy.EmailPolicy):
    """`policy.default` whose header reads come from `_parsed_header` for values up to CACHED_HEADER_CHARS."""

    def header_fetch_parse(self, name: str, value: str) -> object:  # type: ignore[override]
        if type(value) is str and len(value) <= CACHED_HEADER_CHARS:
            return _parsed_header(name, value)
        return super().header_fetch_parse(name, value)


POLICY = CachedHeaderPolicy()


# ── one parse for the reader and the redaction of a stored message ───────────────────────────────────
HANDED_OVER_BYTES = 1024 * 1024  # larger messages are parsed again rather than kept alive meanwhile
_handed = threading.local()


def hand_over(raw: bytes, message: Message) -> None:
    """Keep `message`, parsed from `raw` with POLICY and only read since, for this thread's next
    `parsed(raw)`: the email adapter's parse of a stored message, for the redaction of the same bytes that
    follows it in the worker's job (`redaction.payloads`), which parsed them a second time (issue 11)."""
    _handed.item = (raw, message) if len(raw) <= HANDED_OVER_BYTES else None


def parsed(raw: bytes) -> Message:
    """`raw` parsed with POLICY: the message handed over for these very bytes (once: the caller may change
    it), else a new parse."""
    item = getattr(_handed, "item", None)
    if item is not None:
        _handed.item = None
        if item[0] is raw or item[0] == raw:
            return item[1]
    return email.message_from_bytes(raw, policy=POLICY)
