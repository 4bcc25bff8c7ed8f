"""Resident memory of a server process and its children, read from /proc (Linux), for the benches.

`rss_kib(pid)` is the VmRSS of the process plus every descendant (`serve` with THREADLINE_WORKER_PROCESS=1 has
its worker child). `RssSampler` reads it every `interval` seconds in a thread and keeps the peak and the last
value; `peak_kib` also takes the kernel's own high-water mark (VmHWM) of the main process, so a peak between
two samples is not missed.

RSS counts a page shared by two processes (the interpreter's and the libraries' code, a file both map) in
each of them, so a sum of RSS over `serve` and its child overstates what they take together. `footprint(pid)`
also reads each process's /proc/<pid>/smaps_rollup the way smem does: PSS (a shared page divided among the
processes that map it: their sum is what the node takes) and USS (the pages no other process maps: what
ending that process would give back). The sampler keeps those sums too, at warm-up, peak and end.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Footprint:
    """One process's (or a sum of processes') memory, KiB: RSS, PSS and USS (smem's terms)."""

    rss: int = 0
    pss: int = 0
    uss: int = 0

    def __add__(self, other: Footprint) -> Footprint:
        return Footprint(self.rss + other.rss, self.pss + other.pss, self.uss + other.uss)

    def mib(self) -> str:
        return f"{mib(self.rss)}/{mib(self.pss)}/{mib(self.uss)}"


def process_footprint(pid: int) -> Footprint:
    """RSS, PSS and USS of one process from /proc/<pid>/smaps_rollup (zeros when it is gone)."""
    fields: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value, *_unit = line.split()
            fields[name.rstrip(":")] = int(value)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return Footprint()
    private = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0) + fields.get("Private_Hugetlb", 0)
    return Footprint(fields.get("Rss", 0), fields.get("Pss", 0), private)


def footprints(pid: int) -> dict[int, Footprint]:
    """`process_footprint` of `pid` and of each of its descendants."""
    return {p: process_footprint(p) for p in (pid, *descendants(pid))}


def footprint(pid: int) -> Footprint:
    """The sum over `pid` and its descendants: RSS (pages shared between them counted in each), PSS (counted
    once, split among them) and USS."""
    return sum(footprints(pid).values(), Footprint())


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


class RssSampler:
    """Samples `rss_kib(pid)` every `interval` seconds until `stop()`; `.peak_kib`, `.last_kib`; and the
    summed `footprint` (`.first_shares`, `.peak_shares`, `.last_shares`: the peak of each figure on its own)."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.first_kib = self.last_kib = self._peak = rss_kib(pid)
        # PSS and USS summed over the processes (smaps_rollup), at the start, the largest seen, the last
        self.first_shares = self.last_shares = self.peak_shares = footprint(pid)
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
        shares = footprint(self.pid)
        if shares.rss:
            self.last_shares = shares
            self.peak_shares = Footprint(max(self.peak_shares.rss, shares.rss), max(self.peak_shares.pss, shares.pss),
                                         max(self.peak_shares.uss, shares.uss))
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
