"""Per-thread measures of a server process (bench only: `bench/threads.py`, used by `bench/ingest.py` and
`bench/email_ingest.py`, their `--profile N`).

Put this folder first on PYTHONPATH, then:

- THREADLINE_BENCH_THREADS=FILE: each thread started afterwards appends "<native thread id> <name>" to
  FILE.<pid>, so the bench can read each thread's CPU time from /proc/<pid>/task/<id>/stat (no profiler:
  the figures are the server's own);
- THREADLINE_BENCH_PROFILE=FILE: each thread started afterwards runs under a cProfile of its own counting its
  CPU time (`time.thread_time`: not the time it waits for a lock, the GIL or a socket; the main thread too);
  SIGUSR1 clears them all (the start of the measured phase), SIGUSR2 takes their stats as they are (its
  end), and at exit the stats taken (or, without SIGUSR2, those at exit) are written to FILE.<pid> (a
  marshal'd dict: thread name -> list of pstats data, printed per thread by the bench).

Without either variable this module does nothing.
"""

from __future__ import annotations

import os
import threading

_run = threading.Thread.run

if os.environ.get("THREADLINE_BENCH_THREADS"):
    _names = f"{os.environ['THREADLINE_BENCH_THREADS']}.{os.getpid()}"

    def _named_run(self: threading.Thread) -> None:
        with open(_names, "a") as handle:
            handle.write(f"{threading.get_native_id()} {self.name}\n")
        _run(self)

    threading.Thread.run = _named_run  # type: ignore[method-assign]

if os.environ.get("THREADLINE_BENCH_PROFILE"):
    import atexit
    import cProfile
    import marshal
    import signal
    import time

    _profiles: list[tuple[str, cProfile.Profile]] = []

    def _profiled_run(self: threading.Thread) -> None:
        profile = cProfile.Profile(time.thread_time)
        _profiles.append((self.name, profile))
        profile.enable()
        try:
            _run(self)
        finally:
            profile.disable()

    threading.Thread.run = _profiled_run  # type: ignore[method-assign]
    _main = cProfile.Profile(time.thread_time)
    _profiles.append(("MainThread", _main))
    _main.enable()

    _taken: list[dict[str, list[dict]]] = []

    def _clear(_signum: int, _frame: object) -> None:
        _taken.clear()
        for _name, profile in list(_profiles):
            profile.clear()

    def _stats() -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for name, profile in list(_profiles):
            profile.snapshot_stats()  # type: ignore[attr-defined]  # reads them; every profile keeps counting
            out.setdefault(name, []).append(profile.stats)  # type: ignore[attr-defined]
        return out

    def _take(_signum: int, _frame: object) -> None:
        _taken[:] = [_stats()]

    def _dump() -> None:
        out = _taken[0] if _taken else _stats()
        with open(f"{os.environ['THREADLINE_BENCH_PROFILE']}.{os.getpid()}", "wb") as handle:
            marshal.dump(out, handle)

    signal.signal(signal.SIGUSR1, _clear)
    signal.signal(signal.SIGUSR2, _take)
    atexit.register(_dump)
