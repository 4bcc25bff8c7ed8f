"""Profile every thread of a process with cProfile (bench only: `bench/email_ingest.py --profile FILE`).

Put this folder first on PYTHONPATH and set THREADLINE_BENCH_PROFILE=FILE: each thread started afterwards
runs under a cProfile of its own counting its CPU time (`time.thread_time`: not the time it waits for a
lock, the GIL or a socket; the main thread too); SIGUSR1 clears them all (the start of the measured
phase), and at exit their stats are written to FILE.<pid> (a marshal'd dict: thread name -> list of pstats
data; `bench/email_ingest.py --profile` prints them per thread). Without the variable this module does nothing.
"""

from __future__ import annotations

import os

if os.environ.get("THREADLINE_BENCH_PROFILE"):
    import atexit
    import cProfile
    import marshal
    import signal
    import threading
    import time

    _profiles: list[tuple[str, cProfile.Profile]] = []
    _run = threading.Thread.run

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

    def _clear(_signum: int, _frame: object) -> None:
        for _name, profile in list(_profiles):
            profile.clear()

    def _dump() -> None:
        out: dict[str, list[dict]] = {}
        for name, profile in list(_profiles):
            profile.create_stats()
            out.setdefault(name, []).append(profile.stats)  # type: ignore[attr-defined]
        with open(f"{os.environ['THREADLINE_BENCH_PROFILE']}.{os.getpid()}", "wb") as handle:
            marshal.dump(out, handle)

    signal.signal(signal.SIGUSR1, _clear)
    atexit.register(_dump)
