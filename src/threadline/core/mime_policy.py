"""The stdlib's `email.policy.default`, with each header value parsed once instead of at every read of it.

The stdlib builds a new header object (its whole parse tree) at each `message.get(name)`: parsing one inbound
email, its loop and bounce checks and its redaction asked for its Content-Type ~20 times and ~35 headers in
all, a third of the worker's time per email (issue 11). That parse is a pure function of the header's name and
raw value, and header objects are immutable, so short values are kept in a small process-wide LRU (shared by
threads; Content-Type, To and MIME-Version repeat across messages too). Writing headers is untouched: a header
set on a message is stored as its object and read back as is.
"""

from __future__ import annotations

import email.policy
import functools

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
