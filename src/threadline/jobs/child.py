"""The worker of `threadline serve` in a process of its own (THREADLINE_WORKER_PROCESS, docs/adr/0006).

`serve` keeps the web (uvicorn), the scheduler and the channel edges; `WorkerProcess` starts
`python -m threadline.jobs.child`, the job worker pool, and watches it: a child that exits while the server
runs is logged and started again (its jobs are requeued by `recover_orphans` in the new child), so the server
never acknowledges messages nobody processes. The child dies with its parent: the kernel kills it when the
thread that started it ends (`PR_SET_PDEATHSIG`, so also after `kill -9` of `serve`), and it exits when its
link to the parent closes. On SIGTERM/SIGINT of `serve` the parent sends SIGTERM to the child, which
finishes the jobs in hand and exits 0. The child runs in a process group of its own: a terminal's Ctrl+C
reaches `serve` only, which stops it in that order.

The link (`core.relay`): the child's cache is the parent's, its group sends go to the parent's sockets, its
metrics are merged into the parent's `/metrics`, and a request's commit that enqueues jobs wakes it.
SQLite write transactions of both processes take turns (`core.sqlite.base.ProcessTurn`).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from threadline.core import metrics, relay

logger = logging.getLogger("threadline.serve")

PARENT_VARIABLE = "TL_SERVE_RELAY_PARENT"
RESTART_DELAY = 1.0  # seconds between a child's exit and its replacement (no busy loop of crashes)
METRICS_EVERY = 1.0
PR_SET_PDEATHSIG = 1
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


class WorkerProcess:
    """The parent's side: starts the child, relays for it, starts it again when it exits unasked."""

    def __init__(self, *, public_url: str = "") -> None:
        self.public_url = public_url
        self.stopping = threading.Event()
        self.process: subprocess.Popen[bytes] | None = None
        self.events: socket.socket | None = None
        self.events_lock = threading.Lock()
        self.spawned = threading.Event()
        self.restarts = 0
        self.supervisor = threading.Thread(target=self.supervise, name="threadline-worker-process", daemon=True)
        self.waker = threading.Thread(target=self.forward_wakes, name="threadline-worker-wake", daemon=True)

    @property
    def threads(self) -> list[threading.Thread]:
        return [self.supervisor, self.waker]

    def start(self) -> WorkerProcess:
        self.supervisor.start()
        self.waker.start()
        self.spawned.wait(30)
        return self

    def spawn(self) -> tuple[subprocess.Popen[bytes], list[socket.socket]]:
        from django.db import connections

        from threadline.realtime.dispatch import send_to_group

        calls, calls_child = socket.socketpair()
        events, events_child = socket.socketpair()
        env = {**os.environ, relay.FDS_VARIABLE: f"{calls_child.fileno()},{events_child.fileno()}",
               PARENT_VARIABLE: str(os.getpid())}
        if self.public_url:
            env.setdefault("THREADLINE_PUBLIC_URL", self.public_url)
        connections.close_all()  # nothing of this thread's stays open for the child to see
        try:
            process = subprocess.Popen([sys.executable, "-m", "threadline.jobs.child"], env=env,  # noqa: S603
                                       pass_fds=(calls_child.fileno(), events_child.fileno()), process_group=0)
        finally:
            calls_child.close()
            events_child.close()
        threading.Thread(target=relay.serve_calls, args=(calls,), name="threadline-relay-calls", daemon=True).start()
        threading.Thread(target=relay.serve_events, args=(events,), name="threadline-relay-events", daemon=True,
                         kwargs={"on_group": send_to_group, "on_metrics": metrics.remember_child}).start()
        with self.events_lock:
            self.events = events
        return process, [calls, events]

    def supervise(self) -> None:
        """Start the child and wait for it; again after it exits, until `stop`. The child must be started by
        this thread, which lives as long as the server: its parent-death signal follows this thread. It blocks
        SIGTERM/SIGINT (the main thread takes them), so a child inherits them blocked: one that `stop` signals
        while it is still starting gets the signal once its handlers are set (`main`), instead of dying by it."""
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        while not self.stopping.is_set():
            self.process, sockets = self.spawn()
            self.spawned.set()
            code = self.process.wait()
            with self.events_lock:
                self.events = None
            for sock in sockets:
                sock.close()
            if self.stopping.is_set():
                logger.info("worker process %s exited with %s", self.process.pid, code)
                return
            self.restarts += 1
            logger.error("worker process %s exited with %s while the server runs: starting another",
                         self.process.pid, code)
            self.stopping.wait(RESTART_DELAY)

    def forward_wakes(self) -> None:
        """The parent's commits that enqueue jobs set its `WAKE`: tell the child at once."""
        from threadline.jobs.registry import WAKE

        while not self.stopping.is_set():
            WAKE.wait()
            WAKE.clear()
            with self.events_lock:
                if self.events is None:
                    continue
                try:
                    relay.send_frame(self.events, ("wake",))
                except OSError:  # the child is gone; the supervisor starts another, which looks for work
                    pass

    def stop(self) -> None:
        """Ask the child to finish the jobs in hand and exit (the supervisor then returns)."""
        from threadline.jobs.registry import WAKE

        self.stopping.set()
        WAKE.set()
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)

    def join(self, timeout: float) -> bool:
        """Wait for the child to exit; False (and the child killed) when it did not within `timeout`."""
        self.supervisor.join(timeout)
        if self.supervisor.is_alive() and self.process is not None:
            logger.error("worker process %s did not stop within %ss: killed", self.process.pid, timeout)
            self.process.kill()
            self.supervisor.join(5)
            return False
        return True


# ── the child ────────────────────────────────────────────────────────────────────────────────────────
def die_with_parent() -> None:
    """SIGKILL when the parent's starting thread ends (Linux); exit now if the parent is already gone."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != int(os.environ.get(PARENT_VARIABLE) or os.getppid()):
        os._exit(1)


def say(line: str) -> None:
    """One line for the operator on the stdout `serve` shares with its worker process, at once."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _parent_gone() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # as if killed with it: what it held is requeued at the next start


STOP = threading.Event()  # SIGTERM/SIGINT received: finish the jobs in hand, exit 0
_pool: Any = None


def _stop(sig: int, frame: Any) -> None:
    """From `main` on, so a SIGTERM while the child is still starting (Django, its imports) ends it cleanly."""
    STOP.set()
    if _pool is not None:
        _pool.stop()


def run_child() -> None:
    """The worker process: the pool of `serve` (warm-up included), the link's wake-ups, metrics to the parent."""
    global _pool
    from django.conf import settings
    from django.db import connections

    from threadline.core.malloc_arenas import limit_malloc_arenas
    from threadline.core.warmup import CHILD_STEPS
    from threadline.jobs.pool import WorkerPool
    from threadline.jobs.registry import WAKE
    from threadline.jobs.worker import recover_orphans_and_say

    link = relay.child_link()
    if link is None:
        raise SystemExit("threadline.jobs.child is started by `threadline serve` (THREADLINE_WORKER_PROCESS=1)")
    limit_malloc_arenas()  # as serve and `threadline worker` do, before this process's threads start
    threading.Thread(target=link.listen, args=(WAKE.set, _parent_gone), name="threadline-relay-listen",
                     daemon=True).start()
    recover_orphans_and_say(say)  # serve did at its start; this is for a child started again after a crash
    connections.close_all()
    if STOP.is_set():  # stopped while starting: nothing in hand
        return
    _pool = pool = WorkerPool(settings.THREADLINE["WORKER_CONCURRENCY"], warm_up=CHILD_STEPS).start()
    if STOP.is_set():  # the signal came between the check and `_pool`
        pool.stop()

    def push_metrics() -> None:
        while True:
            with contextlib.suppress(OSError):
                link.post("metrics", metrics.snapshot())
            if STOP.wait(METRICS_EVERY):
                return

    threading.Thread(target=push_metrics, name="threadline-relay-metrics", daemon=True).start()
    while pool.join(timeout=1.0):  # wakes up for the signal handler now and then
        if STOP.is_set() and not pool.warm.is_set():
            break  # stopped while warming up: no thread has taken a job yet, none will (each is stopped)
    with contextlib.suppress(OSError):
        link.post("metrics", metrics.snapshot())


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked by the parent until now (`supervise`)
    die_with_parent()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.config.settings")
    from threadline.config import env

    env.prepare_in_workers()
    import django

    django.setup()
    run_child()


if __name__ == "__main__":
    main()
