"""`@task`: a function that can be run later by a worker, durably.

The surface follows Django's tasks API (DEP 14): decorate a function, call `.enqueue(*args)`.
Unlike the django-tasks database backend, every job has a lease (a killed worker's job runs again),
attempts with exponential backoff, and a dead-letter state; see docs/adr/0002-job-queue.md.

`enqueue` writes a row in the caller's transaction: the job exists exactly when the business rows do.
Tasks take ids, must be idempotent, and open their own transactions.

`@task(batch=True)` marks a task that only touches the database (no network I/O): the worker runs several
such jobs in one transaction, each in a savepoint, and marks each done in that same transaction, so its
effects and its completion commit together (exactly once, even across kill -9); see ADR 0004.

`follow_in_batch(action)`: while a batch job runs, work it causes that would otherwise be a job of its own
(dispatching the events it published to their subscribers) can run right after it, in its savepoint, so it
commits, or is undone, together with the job; see ADR 0005.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

from django.db import DatabaseError, IntegrityError, transaction

from threadline.core.time import now

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

TASKS: dict[str, Task[Any, Any]] = {}
MAX_FOLLOWERS = 64  # actions run after one batch job; past that, callers enqueue jobs as outside a batch
_batch_job = threading.local()
WAKE = threading.Event()  # lets an in-process worker start at once after a commit
NOTIFY_CHANNEL = "threadline_jobs"  # PostgreSQL: workers in other processes LISTEN on it (jobs.wakeup)


class Retry(Exception):  # noqa: N818 - the name reads as the instruction it is
    """Raise from a task to be run again after `after` seconds (counts as an attempt)."""

    def __init__(self, reason: str, *, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class PermanentFailure(Exception):
    """Raise from a task when trying again cannot help: the job goes straight to the dead letters."""


class Postpone(Exception):  # noqa: N818 - the name reads as the instruction it is
    """An outcome of a gathered job (`@task(gather=N)`): run it again after `after` seconds without counting an
    attempt (it was not tried: say an earlier message of its conversation is still being sent)."""

    def __init__(self, reason: str, *, after: float) -> None:
        super().__init__(reason)
        self.after = after


class Task(Generic[P, R]):
    def __init__(self, func: Callable[P, R], *, name: str, max_attempts: int, batch: bool = False,
                 gather: int = 0) -> None:
        self.func = func
        self.name = name
        self.max_attempts = max_attempts
        self.batch = batch
        self.gather = gather
        self.together: Callable[[list[list[Any]]], list[Exception | None]] | None = None

    def gathered(self, func: Callable[[list[list[Any]]], list[Exception | None]]) -> Callable[
            [list[list[Any]]], list[Exception | None]]:
        """Register how a worker runs many ready jobs of this task at once (`@task(gather=N)`): `func` takes
        the jobs' args, oldest first, and answers one outcome per job, in order: None (done), or the exception
        the job failed with (recorded as if the task had raised it; `Postpone` requeues it uncounted)."""
        self.together = func
        return func

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.func(*args, **kwargs)

    def enqueue(
        self,
        *args: Any,
        unique_key: str | None = None,
        delay: float = 0,
        run_after: dt.datetime | None = None,
        fresh: bool = False,
    ) -> Any:
        """Store a job for `args`. With `unique_key`, a second enqueue of the same key is a no-op.

        `fresh`: the key names a row this transaction has just created (`inbound:<new id>`), so it cannot
        exist yet and the insert needs no savepoint to survive a duplicate (ids are never reused)."""
        from threadline.core.row_writes import create
        from threadline.jobs.models import Job

        when = run_after or (now() + dt.timedelta(seconds=delay))
        fields = dict(
            task=self.name, args=list(args), max_attempts=self.max_attempts, run_after=when, unique_key=unique_key,
            batch=self.batch,
        )
        if unique_key is None or fresh:
            job = create(Job, **fields)  # the SQL compiled once (an acknowledgement's hot path)
        else:
            try:
                with transaction.atomic():
                    job = Job.objects.create(**fields)
            except IntegrityError:
                return Job.objects.get(unique_key=unique_key)
        wake_workers_on_commit()
        return job


def wake_workers_on_commit() -> None:
    """Wake the workers once the current transaction commits: at once in this process (WAKE), and on
    PostgreSQL in every process (NOTIFY). Registered once per transaction, however many jobs it enqueues."""
    connection = transaction.get_connection()
    if any(callback is _wake for _sids, callback, *_ in connection.run_on_commit):
        return
    transaction.on_commit(_wake)


def _wake() -> None:
    WAKE.set()
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")
        except DatabaseError:  # the jobs are committed; other workers find them on their next poll
            logger.warning("could not notify the workers", exc_info=True)


def follow_in_batch(action: Callable[[], None]) -> bool:
    """Run `action` after the batch job running in this thread, inside its savepoint; False (and nothing
    done) outside a batch job or past MAX_FOLLOWERS, when the caller must enqueue a job instead."""
    followers: list[Callable[[], None]] | None = getattr(_batch_job, "followers", None)
    if followers is None or _batch_job.count >= MAX_FOLLOWERS:
        return False
    followers.append(action)
    _batch_job.count += 1
    return True


def followers_mark() -> int:
    """Where the actions `follow_in_batch` collects stand now (0 outside a batch job), for `drop_followers`."""
    followers: list[Callable[[], None]] | None = getattr(_batch_job, "followers", None)
    return 0 if followers is None else len(followers)


def drop_followers(mark: int) -> None:
    """Forget the actions collected since `followers_mark()` answered `mark`: what asked for them was undone
    (a savepoint rolled back), so the events they would dispatch were never written."""
    followers: list[Callable[[], None]] | None = getattr(_batch_job, "followers", None)
    if followers is not None and len(followers) > mark:
        _batch_job.count -= len(followers) - mark
        del followers[mark:]


_gathering = threading.local()


def gathered_done(outcomes: list[Exception | None]) -> None:
    """Called by a `Task.gathered` function inside the transaction that writes its outcomes: the worker marks
    the jobs answered None done in that transaction, so their effects and their completion commit together
    (else it marks them after the function returns). Does nothing outside a worker's gathered run."""
    mark: Callable[[list[Exception | None]], None] | None = getattr(_gathering, "mark", None)
    if mark is not None:
        mark(outcomes)


class GatheredRun:
    """The worker's side of `gathered_done`, for one gathered run in this thread."""

    def __init__(self, mark: Callable[[list[Exception | None]], None]) -> None:
        self.mark = mark

    def __enter__(self) -> GatheredRun:
        self.outer = getattr(_gathering, "mark", None)
        _gathering.mark = self.mark
        return self

    def __exit__(self, *exc: object) -> None:
        _gathering.mark = self.outer


class BatchJobScope:
    """The worker's side of `follow_in_batch`: collects the actions while the job runs, then runs them."""

    def __enter__(self) -> BatchJobScope:
        self.outer = getattr(_batch_job, "followers", None), getattr(_batch_job, "count", 0)
        _batch_job.followers, _batch_job.count = [], 0
        return self

    def run_followers(self) -> None:
        """Run the collected actions in order, and those they add, until none is left."""
        followers = _batch_job.followers
        while followers:
            followers.pop(0)()

    def __exit__(self, *exc: object) -> None:
        _batch_job.followers, _batch_job.count = self.outer


def task(*, max_attempts: int = 8, batch: bool = False, gather: int = 0) -> Callable[[Callable[P, R]], Task[P, R]]:
    """`gather=N` (network tasks): a worker that claims a job of this task claims up to N-1 more ready ones and
    runs them together through the function registered with `Task.gathered` (say sends in flight at once)."""

    def decorate(func: Callable[P, R]) -> Task[P, R]:
        name = f"{func.__module__}.{func.__qualname__}"
        wrapped = Task(func, name=name, max_attempts=max_attempts, batch=batch, gather=gather)
        TASKS[name] = wrapped
        return wrapped

    return decorate


def resolve(name: str) -> Task[Any, Any]:
    """The task registered as `name`, importing its module on first use."""
    if name not in TASKS:
        module = name.rsplit(".", 1)[0]
        __import__(module)
    return TASKS[name]
