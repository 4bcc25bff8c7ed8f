"""`threadline serve`: the whole server on one node (embedded mode), in one process or two.

Migrates when a migration is due (in a child process, `core.migrating`), bootstraps the first workspace, then
serves HTTP and WebSockets with uvicorn while the scheduler runs in a thread and the job worker in a process
of its own beside it, so the two use two cores (`jobs.child`, docs/adr/0006; the default where `serve` may
run on 2 or more CPUs, THREADLINE_WORKER_PROCESS), or in threads of the same process
(THREADLINE_WORKER_PROCESS=0, the default on one CPU); with neither under THREADLINE_EMBEDDED_WORKER=0, for
web nodes of a scaled deployment. SIGINT/SIGTERM: stop accepting, finish requests in flight, let the worker
finish its job, release the scheduler lock, exit 0.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from threadline.config import env
from threadline.core import bootstrap, migrating
from threadline.core.malloc_arenas import limit_malloc_arenas
from threadline.core.sqlite.base import keep_connections
from threadline.core.warmup import SERVE_STEPS, load_screens, settle_heap, warm_up_and_settle
from threadline.jobs.child import WorkerProcess
from threadline.jobs.pool import WorkerPool
from threadline.jobs.scheduler import Scheduler
from threadline.jobs.worker import recover_orphans_and_say

logger = logging.getLogger("threadline.serve")

GRACE_SECONDS = 30
MIGRATION_LOCK_KEY = 0x746C_6D67  # "tlmg"


def proxy_options() -> dict[str, Any]:
    """uvicorn believes X-Forwarded-For/-Proto only from THREADLINE_TRUSTED_PROXIES (by default it would
    trust loopback, so any local process could claim to be any client)."""
    trusted = list(settings.THREADLINE.get("TRUSTED_PROXIES") or ())
    return {"proxy_headers": True, "forwarded_allow_ips": trusted} if trusted else {"proxy_headers": False}


class GracefulServer(uvicorn.Server):
    """uvicorn's server, telling us when it is up and when a stop signal arrives.

    uvicorn re-raises the signal it caught once it has shut down, which would end the process with
    -SIGTERM before the worker and the scheduler are stopped; here the signal only starts the shutdown.
    """

    def __init__(self, config: uvicorn.Config, *, on_ready: Callable[[], None],
                 on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready
        self.on_exit = on_exit

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.on_ready()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            logger.info("received %s: shutting down", signal.Signals(sig).name)
            self.on_exit()
        super().handle_exit(sig, frame)


def close_connections_after_each_request() -> None:
    """Each request's connection goes back at its end (`core.asgi_pool`: `request_finished` on the
    request's thread), so a process's requests hold at most one connection per request in flight, not one
    per thread of its pool whether busy or not. The server process closes them at the end of each request:
    on PostgreSQL that hands them back to the process's pool (config/env.py `database_pool`), so a request
    reuses an open connection instead of opening one. On SQLite the closed connections are kept open for
    the next request the same way (core/sqlite `keep_connections`: opening one cost 3-4 ms a request).
    """
    for alias in connections:
        connections[alias].settings_dict["CONN_MAX_AGE"] = 0
    keep_connections(env.web_threads())


@contextlib.contextmanager
def migration_lock() -> Iterator[None]:
    """Web nodes starting together on one PostgreSQL database migrate one after the other."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])


def load_application() -> None:
    """Import the ASGI application and build the URL patterns before the heap is settled
    (`core.warmup.settle_heap`), so their objects are frozen with the rest; uvicorn finds the module loaded."""
    from django.urls import get_resolver

    import threadline.config.asgi  # noqa: F401

    get_resolver().url_patterns  # noqa: B018 - populates the resolver


def start_edges(host: str, smtp_port: int | None) -> list[Callable[[], None]]:
    """Start the channel edges that listen on ports of their own (an SMTP server for email).

    Core names no channel kind: every registered adapter with a `start_listener(host=, smtp_port=)` method
    may start one (returning a function that stops it, or None when it has nothing to listen for).
    """
    from threadline.channels.registry import adapter_for, kinds

    stoppers: list[Callable[[], None]] = []
    for kind in kinds():
        start = getattr(adapter_for(kind), "start_listener", None)
        if start is not None:
            stop = start(host=host, smtp_port=smtp_port)
            if stop is not None:
                stoppers.append(stop)
    return stoppers


class Command(BaseCommand):
    help = "Run Threadline: web server, job worker and scheduler on this node (the worker in a process of its own on 2 or more CPUs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000).")
        parser.add_argument("--smtp-port", type=int, default=None,
                            help="Port for inbound email (SMTP); used by the email channel.")
        parser.add_argument("--demo", action="store_true",
                            help="Load a demo workspace with conversations in several languages.")

    def handle(self, *args: Any, host: str, port: int, smtp_port: int | None, demo: bool, **options: Any) -> None:
        limit_malloc_arenas()
        if not env.get("PUBLIC_URL"):  # links printed below, and by commands run beside us, point at this server
            shown = "localhost" if host in {"127.0.0.1", "0.0.0.0", "::", "::1", "localhost"} else host
            settings.PUBLIC_URL = f"http://{shown if ':' not in shown else f'[{shown}]'}:{port}"
        env.remember_served_url(settings.DATA_DIR, settings.PUBLIC_URL)
        with migration_lock():
            if migrating.pending():  # in a child process, which exits with what it loaded (core/migrating.py)
                migrating.migrate_in_child()
        for line in bootstrap.run():
            self.say(line)
        if demo:
            from threadline.core.demo import load_demo

            for line in load_demo():
                self.say(line)
        edges = start_edges(host, smtp_port)
        if smtp_port is not None:
            settings.THREADLINE["SMTP_PORT"] = smtp_port
            if not edges:
                self.say(f"SMTP port {smtp_port} noted; no email channel listens on it yet.")
        close_connections_after_each_request()
        load_application()
        connections.close_all()  # the threads below open their own connections

        if settings.THREADLINE["INTAKE"] is None:  # ADR 0008: when no worker thread of this process stores them
            settings.THREADLINE["INTAKE"] = (settings.THREADLINE["WORKER_PROCESS"]
                                             or not settings.THREADLINE["EMBEDDED_WORKER"])
        threads: list[threading.Thread] = []
        worker: WorkerPool | WorkerProcess | None = None
        scheduler = None
        if settings.THREADLINE["EMBEDDED_WORKER"]:
            # the jobs a killed server's worker (thread or process) held, requeued before "ready" is printed
            recover_orphans_and_say(self.say)
            connections.close_all()
            if settings.THREADLINE["WORKER_PROCESS"]:
                # the child warms up the models it uses; this process only its screens, then settles its heap
                threading.Thread(target=lambda: (load_screens(), settle_heap()), name="threadline-warm-up",
                                 daemon=True).start()
                worker = WorkerProcess(public_url=settings.PUBLIC_URL).start()
            else:
                worker = WorkerPool(settings.THREADLINE["WORKER_CONCURRENCY"], warm_up=SERVE_STEPS).start()
            scheduler = Scheduler()
            threads = [threading.Thread(target=scheduler.run_forever, name="threadline-scheduler", daemon=True)]
            threads[0].start()
            if isinstance(worker, WorkerPool):  # a worker process is joined by `worker.join` below
                threads.extend(worker.threads)
        else:  # no worker to warm up and settle the heap: a thread of its own, so the server listens at once
            threading.Thread(target=warm_up_and_settle, name="threadline-warm-up", daemon=True).start()

        def stop_background() -> None:
            if worker is not None:
                worker.stop()
            if scheduler is not None:
                scheduler.stop()

        url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
        mode = "with worker and scheduler" if threads else "web only"

        def ready() -> None:
            self.say(f"Threadline is ready at {url} ({mode}); press Ctrl+C to stop.")

        config = uvicorn.Config(
            "threadline.config.asgi:application", host=host, port=port, lifespan="off", workers=1,
            log_config=None, timeout_graceful_shutdown=GRACE_SECONDS, server_header=False, **proxy_options(),
            # No permessage-deflate: its zlib state is most of an idle socket's memory (about 120 KiB of the
            # ~150 with it, ~28 without, measured with bench/chat_sockets.py, docs/performance.md), and the
            # frames are small JSON events that deflate barely shrinks (issue 11: 10,000 idle widget sockets).
            ws_per_message_deflate=False,
        )
        server = GracefulServer(config, on_ready=ready, on_exit=stop_background)
        try:
            server.run()
        finally:
            for stop_edge in edges:
                stop_edge()
            stop_background()
            if isinstance(worker, WorkerProcess):
                worker.join(GRACE_SECONDS)
            for thread in threads:
                thread.join(timeout=GRACE_SECONDS)
                if thread.is_alive():
                    logger.error("%s did not stop within %ss", thread.name, GRACE_SECONDS)
        if not server.started:
            sys.exit(1)
        logger.info("Threadline stopped")

    def say(self, line: str) -> None:
        """One line for the operator on stdout, at once (stdout is often a pipe)."""
        self.stdout.write(line)
        self.stdout.flush()
