"""At most two glibc malloc arenas for a long-running `threadline` process (`serve`, `worker`; issue 11).

glibc gives each thread that allocates an arena of its own (up to 8 per core), and the worker, scheduler and
uvicorn's thread pool each kept one mostly empty: limited to 2, `serve` under bench/ingest.py peaked at
297 MiB instead of 320 (docs/performance.md, "Memory and idle sockets"), throughput within the noise.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_ARENA_MAX = -8  # malloc.h


def limit_malloc_arenas(count: int = 2) -> None:
    """At most `count` malloc arenas, unless the operator set MALLOC_ARENA_MAX (theirs wins). Must run before
    the process's threads start; elsewhere than glibc it does nothing."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, count)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt arenas)
        pass
