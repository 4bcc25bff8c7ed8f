"""The worker loop: claim a ready job with a lease, run it, then mark it done, retry it or dead-letter it.

A job is ready when it is queued and due, or running with an expired lease (its worker died). Claiming is
a conditional UPDATE, so any number of workers on SQLite or PostgreSQL never run one job twice at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
import traceback

from django.db import close_old_connections, connection, transaction
from django.db.utils import OperationalError

from threadline.core import metrics
from threadline.core.time import now
from threadline.jobs.models import Job
from threadline.jobs.registry import WAKE, PermanentFailure, Retry, resolve

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
MAX_BACKOFF = 3600.0
_LIVE_WORKERS: set[str] = set()  # ids of the workers running in this process (see recover_orphans)


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: about 2, 4, 8 ... seconds, at most an hour."""
    base = min(MAX_BACKOFF, 2.0**attempts)
    return base * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security


CLAIM_SQL = """
UPDATE {table} SET state = %s, locked_by = %s, lease_until = %s
WHERE id = (
    SELECT id FROM {table}
    WHERE (state = %s AND run_after <= %s) OR (state = %s AND lease_until < %s)
    ORDER BY run_after, id LIMIT 1{skip_locked}
)
RETURNING id
"""


class Worker:
    def __init__(self, *, worker_id: str | None = None, idle_sleep: float = 0.5) -> None:
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{random.randrange(1 << 20):05x}"  # noqa: S311
        self.idle_sleep = idle_sleep
        self.stopping = threading.Event()
        self.failed_since_check = False
        _LIVE_WORKERS.add(self.worker_id)

    def claim(self) -> Job | None:
        """Take the next ready job with a lease, in one conditional UPDATE ... RETURNING statement.

        The statement picks and leases the row atomically: SQLite runs it under its write lock, PostgreSQL
        locks the row it picks (`FOR UPDATE SKIP LOCKED`, so concurrent workers pick different rows).
        """
        moment = now()
        adapt = connection.ops.adapt_datetimefield_value
        skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
        sql = CLAIM_SQL.format(table=connection.ops.quote_name(Job._meta.db_table), skip_locked=skip_locked)
        params = [Job.State.RUNNING, self.worker_id, adapt(moment + LEASE),
                  Job.State.QUEUED, adapt(moment), Job.State.RUNNING, adapt(moment)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        return Job.objects.get(pk=row[0])

    def run_one(self) -> bool:
        """Run one ready job if there is one; True when a job was run."""
        try:
            job = self.claim()
        except OperationalError as exc:  # database locked by another writer: try again shortly
            logger.debug("claim failed: %s", exc)
            return False
        if job is None:
            return False
        self.execute(job)
        return True

    def execute(self, job: Job) -> None:
        attempt = job.attempts + 1
        outcome = "done"
        try:
            resolve(job.task).func(*job.args, **job.kwargs)
        except PermanentFailure as exc:
            outcome = "dead"
            self.finish(job, attempt, Job.State.DEAD, error=str(exc) or type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - a task's failure is recorded, never crashes the worker
            metrics.TASK_FAILURES.labels(job.task).inc()
            error = "".join(traceback.format_exception_only(exc)).strip()
            if attempt >= job.max_attempts:
                outcome = "dead"
                logger.error("job %s %s dead after %d attempts: %s", job.pk, job.task, attempt, error)
                self.finish(job, attempt, Job.State.DEAD, error=error)
            else:
                outcome = "retry"
                after = exc.after if isinstance(exc, Retry) and exc.after is not None else backoff_seconds(attempt)
                logger.warning("job %s %s failed (attempt %d), retry in %.1fs: %s", job.pk, job.task, attempt, after, error)
                self.finish(job, attempt, Job.State.QUEUED, error=error, run_after=now() + dt.timedelta(seconds=after))
        else:
            self.finish(job, attempt, Job.State.DONE)
        if outcome != "done":
            self.failed_since_check = True
        metrics.TASK_RUNS.labels(job.task, outcome).inc()

    def finish(
        self, job: Job, attempt: int, state: str, *, error: str = "", run_after: dt.datetime | None = None
    ) -> None:
        fields: dict[str, object] = {"state": state, "attempts": attempt, "locked_by": "", "lease_until": None}
        if error:
            fields["last_error"] = error[:4000]
        if run_after:
            fields["run_after"] = run_after
        if state in (Job.State.DONE, Job.State.DEAD):
            fields["finished_at"] = now()
        with transaction.atomic():
            Job.objects.filter(pk=job.pk, locked_by=self.worker_id).update(**fields)

    def run_until_idle(self, max_jobs: int = 10_000) -> int:
        """Run ready jobs until none is left (tests and `threadline worker --burst`)."""
        count = 0
        while count < max_jobs and self.run_one():
            count += 1
        return count

    def run_forever(self) -> None:
        """Run jobs until `stop()`; the job in hand when asked to stop is finished first."""
        logger.info("worker %s started", self.worker_id)
        try:
            while not self.stopping.is_set():
                try:
                    ran = self.run_one()
                except Exception:  # noqa: BLE001 - a database hiccup must not kill the worker; the lease protects the job
                    logger.exception("worker %s: error outside a task", self.worker_id)
                    ran = False
                    self.stopping.wait(self.idle_sleep)
                if not ran or self.failed_since_check:
                    # Between jobs of a burst the connection is kept (reconnecting per job is costly when
                    # connections are not persistent); when idle or after a failure, stale or broken
                    # connections are closed.
                    close_old_connections()
                    self.failed_since_check = False
                if not ran:
                    WAKE.wait(self.idle_sleep)
                    WAKE.clear()
        finally:
            _LIVE_WORKERS.discard(self.worker_id)
            close_old_connections()
        logger.info("worker %s stopped", self.worker_id)

    def stop(self) -> None:
        self.stopping.set()
        WAKE.set()


def _is_orphan(locked_by: str, host: str) -> bool:
    """True when `locked_by` names a worker of this host that cannot be running any more.

    Worker ids are `host:pid:nonce`. A worker of a process that is gone is dead; so is a worker that names
    this very process (its pid was reused after a restart, as in a container where the server is pid 1)
    but is not one of the workers running here.
    """
    parts = locked_by.split(":")
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return locked_by not in _LIVE_WORKERS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's live process
        return False
    return False


def recover_orphans() -> int:
    """Requeue jobs leased by a worker of this host whose process is gone (after kill -9 or a crash).

    Jobs of workers on other hosts are not touched: their lease expires and any worker takes them then.
    The attempt is not counted, since the job never finished; tasks are idempotent, so running again is safe.
    """
    host = socket.gethostname()
    recovered = 0
    for job_id, locked_by in Job.objects.filter(state=Job.State.RUNNING).values_list("id", "locked_by"):
        if not _is_orphan(locked_by, host):
            continue
        with transaction.atomic():
            recovered += Job.objects.filter(pk=job_id, locked_by=locked_by).update(
                state=Job.State.QUEUED, locked_by="", lease_until=None
            )
    if recovered:
        logger.warning("requeued %d jobs of workers that died", recovered)
    return recovered
