"""A pool of worker threads in one process (`serve`, `threadline worker --concurrency N`) and their wake-up.

Every thread runs its own `Worker`. A commit that enqueues jobs sets `WAKE` in its own process; on
PostgreSQL it also sends NOTIFY, which a listener thread per pool turns into `WAKE` in every other process,
so no worker waits out its idle poll while work is ready. On SQLite, workers in other processes poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from django.db import connection

from threadline.jobs.registry import NOTIFY_CHANNEL, WAKE
from threadline.jobs.worker import Worker

logger = logging.getLogger(__name__)

LISTEN_TIMEOUT = 0.1  # seconds the listener waits for a notification before it looks at `stopping` again


class WorkerPool:
    def __init__(self, concurrency: int, *, idle_sleep: float = 0.5,
                 warm_up: Sequence[Callable[[], None]] = ()) -> None:
        """`warm_up`: steps run in order by the first thread before any thread takes a job (`core.warmup`:
        models loaded outside the batch transactions, which would otherwise hold SQLite's write lock while they
        load). A pool stopped meanwhile skips the steps not yet begun: no thread will take a job."""
        self.workers = [Worker(idle_sleep=idle_sleep) for _ in range(max(1, concurrency))]
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.warm_up = warm_up
        self.warm = threading.Event()

    def start(self) -> WorkerPool:
        self.threads = [threading.Thread(target=self.run, args=(worker, n), name=f"threadline-worker-{n}",
                                         daemon=True) for n, worker in enumerate(self.workers)]
        if connection.vendor == "postgresql":
            self.threads.append(threading.Thread(target=self.listen, args=(dict(connection.settings_dict),),
                                                 name="threadline-worker-listen", daemon=True))
        for thread in self.threads:
            thread.start()
        return self

    def run(self, worker: Worker, number: int) -> None:
        if number == 0:
            try:
                for step in self.warm_up:
                    if self.stopping.is_set():
                        break
                    step()
            except Exception:  # noqa: BLE001 - loaded lazily by the first job then, as without a warm-up
                logger.exception("worker warm-up failed")
            finally:
                self.warm.set()
        else:
            self.warm.wait()
        worker.run_forever()

    def stop(self) -> None:
        """Ask every worker to stop; each finishes the jobs in its hands first."""
        self.stopping.set()
        for worker in self.workers:
            worker.stop()

    def join(self, timeout: float | None = None) -> list[threading.Thread]:
        """Wait for the threads; returns those still alive after `timeout`."""
        for thread in self.threads:
            thread.join(timeout)
        return [thread for thread in self.threads if thread.is_alive()]

    def listen(self, settings_dict: dict[str, object]) -> None:
        """PostgreSQL: LISTEN for the NOTIFY sent by commits that enqueue jobs, and wake this process."""
        import psycopg

        params = {"dbname": settings_dict["NAME"], "user": settings_dict["USER"] or None,
                  "password": settings_dict["PASSWORD"] or None, "host": settings_dict["HOST"] or None,
                  "port": settings_dict["PORT"] or None}
        while not self.stopping.is_set():
            try:
                with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as listening:
                    listening.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not self.stopping.is_set():
                        # short: `stop` is seen within it, and serve and `threadline worker` join this thread
                        # on their way out (1 s added up to a second to every stop on PostgreSQL)
                        for _notice in listening.notifies(timeout=LISTEN_TIMEOUT):
                            WAKE.set()
            except psycopg.Error:  # the workers still poll meanwhile
                logger.warning("job notifications lost; listening again in 5 s", exc_info=True)
                self.stopping.wait(5)
