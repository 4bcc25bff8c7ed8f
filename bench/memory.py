"""Resident memory of a server process and its children, read from /proc (Linux), for the benches.

`rss_kib(pid)` is the VmRSS of the process plus every descendant (a `threadline serve` has none today; a
child started later, e.g. a converter, would count). `RssSampler` reads it every `interval` seconds in a
thread and keeps the peak and the last value; `peak_kib` also takes the kernel's own high-water mark
(VmHWM) of the main process, so a peak between two samples is not missed.
"""

from __future__ import annotations

import threading
from pathlib import Path


def _status(pid: int, field: str) -> int:
    """A `kB` field of /proc/<pid>/status, in KiB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return 0


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children of all its threads, recursively)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def rss_kib(pid: int) -> int:
    """VmRSS of `pid` and its descendants, KiB."""
    return sum(_status(p, "VmRSS") for p in (pid, *descendants(pid)))


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


class RssSampler:
    """Samples `rss_kib(pid)` every `interval` seconds until `stop()`; `.peak_kib`, `.last_kib`."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.first_kib = self.last_kib = self._peak = rss_kib(pid)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            self.sample()

    def sample(self) -> int:
        value = rss_kib(self.pid)
        if value:
            self.last_kib = value
            self._peak = max(self._peak, value)
        return value

    @property
    def peak_kib(self) -> int:
        return max(self._peak, _status(self.pid, "VmHWM") + sum(rss_kib(c) for c in descendants(self.pid)))

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> RssSampler:
        self.sample()
        self._done.set()
        self._thread.join()
        return self
