"""One `threadline shell` child that runs many snippets, one after another, for `ServerProcess.shell`.

Each `threadline shell -c` of a test starts Django again (~0.8 s of CPU). This child is started the same way,
with the same settings, once per server, and then reads snippets from its stdin: each runs in a namespace of
its own with its printed output captured, as `threadline shell --no-imports -c` would run it. Between
snippets nothing a new process would not have is kept: the database connections are closed and the
process's local cache (SQLite mode's LocMemCache) is cleared; the process-local memos of the code itself
are never stale by design (docs/architecture.md: no shared module-level state).

The protocol: a request is one JSON line `{"code": ...}`; the answer is one JSON line `{"output": ...,
"error": <traceback or null>}` on the file descriptor that was the child's stdout (the child's own fd 1
goes to its stderr, so nothing else can write into the answers).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback


def _fresh_state() -> None:
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
        if connection.settings_dict["OPTIONS"].get("pool"):
            connection.close_pool()  # PostgreSQL: no connection kept open between snippets either
    for cache in caches.all(initialized_only=True):
        if isinstance(cache, LocMemCache):
            cache.clear()


def run_snippet(code: str) -> dict[str, str | None]:
    from django.core.management.commands import shell as shell_command

    output = io.StringIO()
    error = None
    try:
        with contextlib.redirect_stdout(output):
            exec(code, dict(vars(shell_command)))  # noqa: S102 - the namespace `shell --no-imports -c` gives it
    except SystemExit as exc:
        if exc.code not in (None, 0):
            error = f"SystemExit: {exc.code}"
    except BaseException:  # noqa: BLE001 - reported to the test, which raises it there
        error = traceback.format_exc()
    finally:
        _fresh_state()
    return {"output": output.getvalue(), "error": error}


def serve() -> None:
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # stray writes to stdout go to stderr, never into the answers
    sys.stdout = sys.__stdout__ = os.fdopen(1, "w", encoding="utf-8", closefd=False)
    _fresh_state()
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        answers.write(json.dumps(run_snippet(json.loads(line)["code"])) + "\n")
        answers.flush()
