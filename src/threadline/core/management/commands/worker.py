"""`threadline worker [--concurrency N] [--burst] [--smtp-port N]`: run queued jobs in N threads until
SIGTERM/SIGINT (or, with --burst, in one thread until none is left). In scaled mode the worker also runs the
channel edges with ports of their own (the SMTP listener with --smtp-port, IMAP watchers), as `serve` does
in embedded mode."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from threadline.core.db_pool import fit_pool
from threadline.core.malloc_arenas import limit_malloc_arenas
from threadline.core.management.commands.serve import start_edges
from threadline.core.warmup import WORKER_STEPS
from threadline.jobs.pool import WorkerPool
from threadline.jobs.worker import Worker, recover_orphans_and_say


class Command(BaseCommand):
    help = "Run background jobs. Any number of workers may run against one database."
    # Django's system checks load every URL and schema (~3 s of CPU per command): `serve` runs them once.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--burst", action="store_true", help="Exit once no job is ready.")
        parser.add_argument("--concurrency", type=int, default=None,
                            help="Worker threads (default THREADLINE_WORKER_CONCURRENCY, 2).")
        parser.add_argument("--smtp-port", type=int, default=None,
                            help="Port for inbound email (SMTP), listened on by this worker.")
        parser.add_argument("--host", default="127.0.0.1", help="Interface for --smtp-port (default 127.0.0.1).")
        parser.add_argument("--idle-sleep", type=float, default=0.5,
                            help="Seconds to wait for new jobs when the queue is empty (default 0.5).")

    def handle(self, *args: Any, burst: bool, idle_sleep: float, smtp_port: int | None, host: str,
               concurrency: int | None, **options: Any) -> None:
        limit_malloc_arenas()  # as `serve`: before any thread of ours starts (issue 11, docs/performance.md)
        recover_orphans_and_say(self.stderr.write, stopped="worker")
        if burst:
            count = Worker(idle_sleep=idle_sleep).run_until_idle()
            self.stdout.write(f"Ran {count} jobs.")
            return
        if concurrency:
            fit_pool(concurrency)
        pool = WorkerPool(concurrency or settings.THREADLINE["WORKER_CONCURRENCY"], idle_sleep=idle_sleep,
                          warm_up=WORKER_STEPS)

        edges = start_edges(host, smtp_port)

        def stop(sig: int, frame: FrameType | None) -> None:
            pool.stop()  # the jobs in hand are finished first

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            pool.start()
            while pool.join(timeout=1.0):  # wakes up for the signal handler now and then
                pass
        finally:
            for stop_edge in edges:
                stop_edge()
