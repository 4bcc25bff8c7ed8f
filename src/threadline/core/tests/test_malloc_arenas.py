"""`serve` and `worker` limit glibc's malloc arenas (core.malloc_arenas, issue 11's memory goal)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from threadline.core.management.commands import worker as worker_command

# Eight threads each allocate with malloc while all are alive, then glibc's malloc_stats() prints one
# "Arena N:" block per arena on stderr.
THREADS_ALLOCATING = """
import ctypes, sys, threading
from threadline.core.malloc_arenas import limit_malloc_arenas
if sys.argv[1] == "limit":
    limit_malloc_arenas()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
everyone = threading.Barrier(8)
def allocate():
    everyone.wait()
    for _ in range(200):
        libc.malloc(4096)
    everyone.wait()
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc.malloc_stats()
"""


def arenas(*args: str, **environment: str) -> int:
    env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"} | environment
    done = subprocess.run([sys.executable, "-c", THREADS_ALLOCATING, *args], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc arenas")
def test_the_limit_holds_threads_to_two_arenas_and_the_operators_setting_wins():
    assert arenas("none") > 2  # glibc's own default: an arena per allocating thread
    assert arenas("limit") == 2
    assert arenas("limit", MALLOC_ARENA_MAX="4") > 2


def test_the_worker_command_limits_arenas_before_its_threads_start(db, monkeypatch):
    order: list[str] = []

    class Pool:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def start(self) -> None:
            order.append("threads")

        def stop(self) -> None:
            pass

        def join(self, timeout: float) -> list[object]:
            return []

    monkeypatch.setattr(worker_command, "limit_malloc_arenas", lambda: order.append("limit"))
    monkeypatch.setattr(worker_command, "WorkerPool", Pool)
    call_command("worker")
    assert order == ["limit", "threads"]
