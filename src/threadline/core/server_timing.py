"""Where a request's time went, in a `Server-Timing` response header (THREADLINE_SERVER_TIMING=1; off by default).

`bench/reads.py` turns it on to explain its slow samples from inside the server, where the machine's load
matters less than in the client's wall clock (issue 11: p99 outliers of 170–230 ms at 1,000,000 conversations):

- `app`: the request inside Django (middleware, view, template), in ms;
- `db`: time inside SQL statements, with their count (`desc`);
- `cpu`: the CPU time of the request's thread (what the machine's load does not stretch, unlike `app`);
- `gc`: CPU time the garbage collector ran during the request, in any thread, with its collections (`desc`:
  the oldest generation collected);
- `conn`: time spent opening database connections (on SQLite `serve` reuses a closed request's connection,
  core/sqlite `keep_connections`; on PostgreSQL the pool hands one out).

The header is for an operator's measurement and names no data, only durations.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse


class GcClock:
    """The garbage collector's CPU time, summed since the clock was installed (process-wide)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.collections = 0
        self.oldest = -1  # the oldest generation collected since `oldest` was last reset
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.thread_time()  # the collecting thread's CPU: not stretched by the machine's load
        else:
            self.total += time.thread_time() - self._started
            self.collections += 1
            self.oldest = max(self.oldest, info.get("generation", 0))


_clock: GcClock | None = None
_local = threading.local()
_install_lock = threading.Lock()


def gc_clock() -> GcClock:
    global _clock
    with _install_lock:
        if _clock is None:
            _clock = GcClock()
            gc.callbacks.append(_clock)
        return _clock


def _connected(sender: Any, connection: Any, **kwargs: Any) -> None:
    started = getattr(_local, "connecting", None)
    if started is not None:
        _local.connect_seconds += time.perf_counter() - started
        _local.connecting = None


class ServerTimingMiddleware:
    """First in MIDDLEWARE when THREADLINE_SERVER_TIMING is set (config/settings.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.clock = gc_clock()
        connection_created.connect(_connected, dispatch_uid="threadline.server_timing")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        statements = [0, 0.0]

        def timed_sql(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                statements[0] += 1
                statements[1] += time.perf_counter() - t0

        connection = connections["default"]
        _local.connect_seconds = 0.0
        connect_before = connection.connect

        def timed_connect() -> None:
            _local.connecting = time.perf_counter()
            connect_before()

        connection.connect = timed_connect  # type: ignore[method-assign]  # this thread's wrapper only
        gc_before, collections_before = self.clock.total, self.clock.collections
        self.clock.oldest = -1
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            with connection.execute_wrapper(timed_sql):
                response = self.get_response(request)
        finally:
            del connection.connect
        elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
        collections = self.clock.collections - collections_before
        response["Server-Timing"] = ", ".join([
            f"app;dur={elapsed * 1000:.2f}",
            f"cpu;dur={cpu * 1000:.2f}",
            f'db;dur={statements[1] * 1000:.2f};desc="{statements[0]}"',
            f'gc;dur={(self.clock.total - gc_before) * 1000:.2f};desc="{collections}/{self.clock.oldest}"',
            f"conn;dur={_local.connect_seconds * 1000:.2f}",
        ])
        return response
