"""The worker loop: claim ready jobs with a lease, run them, then mark them done, retry or dead-letter them.

A job is ready when it is queued and due, or running with an expired lease (its worker died). Claiming is
a conditional UPDATE, so any number of workers on SQLite or PostgreSQL never run one job twice at once.

One claim takes the oldest ready job and up to `batch_size` ready *batch* jobs (`@task(batch=True)`:
database-only work such as processing an inbound payload or dispatching an event to its subscribers).
The batch jobs run in one transaction, each in a savepoint, and are marked done in that same transaction:
their effects and their completion commit together, so a worker killed mid-batch leaves every job of the
batch to run again and nothing half done (ADR 0004). Other jobs (network I/O) run one by one, outside.
On SQLite, where writes are serialised anyway, one thread per process runs batches at a time, in claim
order; the other threads of a pool run the network jobs meanwhile. The worker's write transactions queue
behind the requests' (`core.sqlite.base.background`), and a batch transaction is committed after the job in
hand as soon as a request waits to write, so an acknowledgement waits for one job at most, not a batch; while
its claims are late (BEHIND_SECONDS) they go ahead of the requests instead, a whole batch at a time, so a burst
is paced by the backlog rather than accepted first and processed after.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
import time
import traceback
from collections.abc import Callable

from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.db.utils import DatabaseError, OperationalError

from threadline.core import batch_cache, batch_rows, metrics
from threadline.core.sqlite.base import background, foreground_waiting, statement_turn
from threadline.core.time import now
from threadline.jobs.models import Job
from threadline.jobs.registry import (
    WAKE,
    BatchJobScope,
    GatheredRun,
    PermanentFailure,
    Postpone,
    Retry,
    Task,
    resolve,
)

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
BATCH_SIZE = 32
BATCH_SECONDS = 0.05  # a batch transaction takes no further job after this long (writers wait on it)
# (on SQLite it takes none either once a request waits to write: `foreground_waiting`, unless behind:)
BEHIND_SECONDS = 0.25  # SQLite: a claim whose oldest job was due this long ago puts the worker ahead of requests
# (0.5 s held a burst's backlog at ~0.5-0.7 s; 0.25 s at ~0.3-0.4 s, idle: docs/performance.md)
_SQLITE_BATCHES = threading.Lock()  # SQLite: one batch transaction at a time per process, in claim order
# Work that turns into jobs, done before each claim in the claim's turn, registered by its app: the channels'
# intake moves acknowledged payloads into events and their jobs (ADR 0008). Each returns how many it moved.
BEFORE_CLAIM: list[Callable[[], int]] = []
MAX_BACKOFF = 3600.0
_LIVE_WORKERS: set[str] = set()  # ids of the workers running in this process (see recover_orphans)


class LeaseLost(Exception):  # noqa: N818 - names the situation
    """A job of the batch was taken over by another worker (its lease expired): the batch is rolled back."""


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: about 2, 4, 8 ... seconds, at most an hour."""
    base = min(MAX_BACKOFF, 2.0**attempts)
    return base * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security


READY = "((state = %s AND run_after <= %s) OR (state = %s AND lease_until < %s))"
CLAIM_SQL = """
UPDATE {table} SET state = %s, locked_by = %s, lease_until = %s
WHERE id IN (SELECT id FROM {table} WHERE {ready} ORDER BY run_after, id LIMIT 1{skip_locked}){more}
RETURNING id
"""
CLAIM_BATCH_SQL = """
   OR id IN (SELECT id FROM {table} WHERE {batch} AND {ready} ORDER BY run_after, id LIMIT {size}{skip_locked})"""


class Worker:
    def __init__(self, *, worker_id: str | None = None, idle_sleep: float = 0.5, batch_size: int = BATCH_SIZE) -> None:
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{random.randrange(1 << 20):05x}"  # noqa: S311
        self.idle_sleep = idle_sleep
        self.batch_size = batch_size
        self.stopping = threading.Event()
        self.failed_since_check = False
        self.behind = False  # the last claim's oldest job was due more than BEHIND_SECONDS ago
        _LIVE_WORKERS.add(self.worker_id)

    def claim(self) -> Job | None:
        """Take the next ready job alone (see `claim_batch`)."""
        jobs = self.claim_batch(1)
        return jobs[0] if jobs else None

    def claim_batch(self, size: int) -> list[Job]:
        """Lease the oldest ready job and up to `size` ready batch jobs, in one UPDATE ... RETURNING statement.

        The statement picks and leases the rows atomically: SQLite runs it under its write lock, PostgreSQL
        locks the rows it picks (`FOR UPDATE SKIP LOCKED`, so concurrent workers pick different rows).
        """
        moment = now()
        adapt = connection.ops.adapt_datetimefield_value
        skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
        table = connection.ops.quote_name(Job._meta.db_table)
        ready = [Job.State.QUEUED, adapt(moment), Job.State.RUNNING, adapt(moment)]
        more = CLAIM_BATCH_SQL.format(table=table, batch=connection.ops.quote_name("batch"), ready=READY,
                                      size=int(size), skip_locked=skip_locked) if size > 1 else ""
        sql = CLAIM_SQL.format(table=table, ready=READY, skip_locked=skip_locked, more=more)
        params = [Job.State.RUNNING, self.worker_id, adapt(moment + LEASE), *ready, *(ready if more else [])]
        with statement_turn(transaction.get_connection()), connection.cursor() as cursor:  # SQLite: a turn
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return []
        return list(Job.objects.filter(pk__in=ids).order_by("run_after", "id"))

    def run_one(self) -> bool:
        """Run one claim's worth of ready jobs if there are any; True when a job was run."""
        return self.run_claimed() > 0

    def run_claimed(self) -> int:
        """Claim ready jobs and run them (batch jobs together, then the other one); how many ran.

        SQLite (core.sqlite.base): requests write first while the worker keeps up; a claim whose jobs are late
        (`is_behind`) puts the worker's transactions ahead of the requests waiting, the claim's own jobs (the
        network job beside the batch, such as a reply's delivery, included) and the next claim."""
        serialise = connection.vendor == "sqlite"
        if serialise:
            _SQLITE_BATCHES.acquire()
        try:
            try:
                for before in BEFORE_CLAIM:
                    before()
                with background(ahead=self.behind):  # the last claim's lateness decides this claim's place
                    jobs = self.claim_batch(self.batch_size)
            except OperationalError as exc:  # database locked by another writer: try again shortly
                logger.debug("claim failed: %s", exc)
                return 0
            self.behind = self.is_behind(jobs)
            batch = [job for job in jobs if job.batch]
            if batch:
                try:
                    self.execute_batch(batch)
                except Exception:
                    with background(ahead=self.behind):
                        self.release([job for job in jobs if job.state == Job.State.RUNNING])
                    raise
        finally:
            if serialise:
                _SQLITE_BATCHES.release()
        for job in jobs:
            if not job.batch:
                self.fall_behind([job])  # it may have while the batch ran
                with background(ahead=self.behind):  # its writes' place (a reply's delivery: its outcomes)
                    self.execute(job)
        return len(jobs)

    @staticmethod
    def is_behind(jobs: list[Job]) -> bool:
        """True when the oldest claimed job was due more than BEHIND_SECONDS ago (a backlog builds)."""
        return bool(jobs) and (now() - min(job.run_after for job in jobs)).total_seconds() > BEHIND_SECONDS

    def fall_behind(self, jobs: list[Job]) -> None:
        """`behind` from now on if the claimed jobs still to run are late by now: a claim that was on time can
        fall late while requests write first (its batch commits after each job while a request waits, and
        each of its transactions lets the requests go first for up to BACKGROUND_PATIENCE): at the start of a
        burst, 32 claimed jobs took seconds while the requests' backlog grew. Only the next claim sets it back."""
        self.behind = self.behind or self.is_behind(jobs)

    def release(self, jobs: list[Job]) -> None:
        """Hand claimed jobs back at once (their transaction failed), instead of after their lease."""
        try:
            Job.objects.filter(pk__in=[job.pk for job in jobs], locked_by=self.worker_id).update(
                state=Job.State.QUEUED, locked_by="", lease_until=None)
        except DatabaseError:  # the lease hands them back later
            logger.warning("could not release %d jobs", len(jobs), exc_info=True)

    def execute_batch(self, jobs: list[Job]) -> None:
        """Run batch jobs in as few transactions as BATCH_SECONDS allows, each job in a savepoint, each
        marked done in the transaction that holds its effects."""
        pending = list(jobs)
        with batch_cache.scope():  # configuration read once for the claim's jobs (core/batch_cache.py)
            self._execute_pending(pending)

    def _execute_pending(self, pending: list[Job]) -> None:
        while pending:
            started, outcomes = time.monotonic(), []
            self.fall_behind(pending)
            with background(ahead=self.behind), transaction.atomic():  # its place: the lateness of the jobs left
                while pending and (not outcomes or (
                        time.monotonic() - started < BATCH_SECONDS and (self.behind or not foreground_waiting()))):
                    job = pending.pop(0)
                    outcomes.append((job, self.execute_in_savepoint(job)))
                done = [job.pk for job, outcome in outcomes if outcome == "done"]
                if done and Job.objects.filter(pk__in=done, locked_by=self.worker_id).update(
                    state=Job.State.DONE, attempts=F("attempts") + 1, locked_by="", lease_until=None,
                    finished_at=now(),
                ) != len(done):
                    raise LeaseLost(f"worker {self.worker_id} lost the lease of a job of its batch")
            for job, outcome in outcomes:
                job.state = Job.State.DONE  # not handed back by `release`
                metrics.TASK_RUNS.labels(job.task, outcome).inc()

    def execute_in_savepoint(self, job: Job) -> str:
        """Run one batch job inside the open transaction; "done", or the failure recorded ("retry"/"dead")."""
        retry: Retry | None = None
        try:
            with transaction.atomic(), BatchJobScope() as scope, batch_rows.scope():  # rows it wrote, for its followers
                try:
                    resolve(job.task).func(*job.args, **job.kwargs)
                except Retry as exc:  # asks to run again later: what it wrote stays, as when run on its own
                    retry = exc
                scope.run_followers()  # e.g. the events it published, dispatched in its savepoint (ADR 0005)
        except Exception as exc:  # noqa: BLE001 - recorded like any job's failure; the savepoint undid its effects
            self.failed_since_check = True
            return self.record_failure(job, exc)
        if retry is not None:
            self.failed_since_check = True
            return self.record_failure(job, retry)
        return "done"

    def claim_more(self, task: str, size: int) -> list[Job]:
        """Lease up to `size` more ready jobs of `task` (a gathered task's companions), oldest first. A read
        looks first, so that a lone job costs no write (SQLite: no turn among the writers)."""
        moment = now()
        if not Job.objects.filter(Q(state=Job.State.QUEUED, run_after__lte=moment)
                                  | Q(state=Job.State.RUNNING, lease_until__lt=moment), task=task).exists():
            return []
        adapt = connection.ops.adapt_datetimefield_value
        skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
        table = connection.ops.quote_name(Job._meta.db_table)
        sql = (f"UPDATE {table} SET state = %s, locked_by = %s, lease_until = %s WHERE id IN (SELECT id FROM {table} "
               f"WHERE task = %s AND {READY} ORDER BY run_after, id LIMIT {int(size)}{skip_locked}) RETURNING id")
        params = [Job.State.RUNNING, self.worker_id, adapt(moment + LEASE), task,
                  Job.State.QUEUED, adapt(moment), Job.State.RUNNING, adapt(moment)]
        with statement_turn(transaction.get_connection()), connection.cursor() as cursor:  # inside background()
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
        return list(Job.objects.filter(pk__in=ids).order_by("run_after", "id")) if ids else []

    def execute_gathered(self, job: Job, task: Task) -> None:
        """Run `job` with up to `task.gather - 1` more ready jobs of its task, claimed now, in one call of the
        task's `together` (`@task(gather=N)`); the done ones are marked in one statement (in the transaction
        of their outcomes when the task calls `gathered_done`), the others recorded one by one as failures."""
        try:
            jobs = [job, *self.claim_more(job.task, task.gather - 1)]
        except OperationalError as exc:  # database locked: this one alone
            logger.debug("claim of more %s jobs failed: %s", job.task, exc)
            jobs = [job]
        marked: list[bool] = []

        def mark_done(outcomes: list[Exception | None]) -> None:
            done = [j.pk for j, outcome in zip(jobs, outcomes, strict=True) if outcome is None]
            if done:
                Job.objects.filter(pk__in=done, locked_by=self.worker_id).update(
                    state=Job.State.DONE, attempts=F("attempts") + 1, locked_by="", lease_until=None,
                    finished_at=now())
            marked.append(True)

        try:
            with GatheredRun(mark_done):
                outcomes: list[Exception | None] = list(task.together([j.args for j in jobs]))  # type: ignore[misc]
            if len(outcomes) != len(jobs):
                raise RuntimeError(f"{job.task} answered {len(outcomes)} outcomes for {len(jobs)} jobs")
        except Exception as exc:  # noqa: BLE001 - recorded on each job, like a task's failure
            outcomes, marked = [exc] * len(jobs), []
        if not marked:
            with transaction.atomic():
                mark_done(outcomes)
        for j, outcome in zip(jobs, outcomes, strict=True):
            if outcome is None:
                result = "done"
            elif isinstance(outcome, Postpone):
                self.finish(j, j.attempts, Job.State.QUEUED, run_after=now() + dt.timedelta(seconds=outcome.after))
                result = "postponed"
            else:
                self.failed_since_check = True
                result = self.record_failure(j, outcome)
            metrics.TASK_RUNS.labels(j.task, result).inc()

    def execute(self, job: Job) -> None:
        task = resolve(job.task)
        if task.gather > 1 and task.together is not None:
            self.execute_gathered(job, task)
            return
        outcome = "done"
        try:
            task.func(*job.args, **job.kwargs)
        except Exception as exc:  # noqa: BLE001 - a task's failure is recorded, never crashes the worker
            outcome = self.record_failure(job, exc)
        else:
            self.finish(job, job.attempts + 1, Job.State.DONE)
        if outcome != "done":
            self.failed_since_check = True
        metrics.TASK_RUNS.labels(job.task, outcome).inc()

    def record_failure(self, job: Job, exc: Exception) -> str:
        """Dead-letter or schedule the retry of a job whose task raised `exc`; returns the outcome."""
        attempt = job.attempts + 1
        if isinstance(exc, PermanentFailure):
            self.finish(job, attempt, Job.State.DEAD, error=str(exc) or type(exc).__name__)
            return "dead"
        metrics.TASK_FAILURES.labels(job.task).inc()
        error = "".join(traceback.format_exception_only(exc)).strip()
        if attempt >= job.max_attempts:
            logger.error("job %s %s dead after %d attempts: %s", job.pk, job.task, attempt, error)
            self.finish(job, attempt, Job.State.DEAD, error=error)
            return "dead"
        after = exc.after if isinstance(exc, Retry) and exc.after is not None else backoff_seconds(attempt)
        logger.warning("job %s %s failed (attempt %d), retry in %.1fs: %s", job.pk, job.task, attempt, after, error)
        self.finish(job, attempt, Job.State.QUEUED, error=error, run_after=now() + dt.timedelta(seconds=after))
        return "retry"

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
        while count < max_jobs:
            ran = self.run_claimed()
            if not ran:
                break
            count += ran
        return count

    def run_forever(self) -> None:
        """Run jobs until `stop()`; the job in hand when asked to stop is finished first."""
        logger.info("worker %s started", self.worker_id)
        try:
            while not self.stopping.is_set():
                WAKE.clear()  # before looking for work: a commit from now on wakes the wait below
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
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A process that exited and is not reaped yet (e.g. serve's worker process killed with serve, waiting
    for a pid 1 that does not reap): as dead as a vanished one. Linux only; elsewhere False."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in {"Z", "X"}
    except (OSError, IndexError):
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


def recover_orphans_and_say(say: Callable[[str], object], *, stopped: str = "process") -> int:
    """`recover_orphans` at a worker's start, and one line for the operator when it requeued any: `serve` and
    its worker process (`jobs.child`) say "stopped process", `threadline worker` "stopped worker"."""
    recovered = recover_orphans()
    if recovered:
        say(f"Requeued {recovered} jobs left running by a stopped {stopped}.")
    return recovered
