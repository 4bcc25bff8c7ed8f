"""The scheduler: enqueues periodic tasks. Any number may run; only the holder of the lock acts.

The lock is a lease row (`SchedulerLock`) renewed every tick; a scheduler that dies loses it after
`LOCK_TTL`, and another takes over. Each periodic run is enqueued with a unique key per time slot, so even
two holders in a split second could not enqueue the same run twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Count

from threadline.core import metrics
from threadline.core.time import now
from threadline.jobs.models import Job, SchedulerLock
from threadline.jobs.registry import Task, resolve

logger = logging.getLogger(__name__)

# Other queues' depths for `threadline_queue_depth`, registered by their app (the channels' intake): each
# sets its gauges and returns {label: depth}.
DEPTH_SOURCES: list[Callable[[], dict[str, int]]] = []
LOCK_NAME = "scheduler"
LOCK_TTL = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class Periodic:
    task: str
    every_seconds: int


PERIODIC: list[Periodic] = [
    Periodic("threadline.jobs.tasks.prune_finished_jobs_task", 3600),
    Periodic("threadline.jobs.tasks.refresh_statistics_task", 3600),
    Periodic("threadline.channels.email.imap.poll_imap_mailboxes_task", 60),
    Periodic("threadline.sla.tasks.sla_sweep_task", 60),
    Periodic("threadline.routing.tasks.route_waiting_sweep_task", 60),
    Periodic("threadline.automations.tasks.run_time_rules_task", 300),
    Periodic("threadline.privacy.tasks.run_due_erasures_task", 300),
    Periodic("threadline.privacy.tasks.retention_sweep_task", 3600),
    Periodic("threadline.portal.tasks.prune_sign_ins_task", 3600),
    Periodic("threadline.crm.tasks.poll_crm_task", 300),
    Periodic("threadline.analytics.tasks.refresh_facts_task", 60),
    Periodic("threadline.analytics.tasks.evaluate_alerts_task", 300),
    Periodic("threadline.analytics.tasks.send_due_reports_task", 300),
    Periodic("threadline.surveys.tasks.send_due_surveys_task", 60),
    Periodic("threadline.surveys.tasks.send_scheduled_nps_task", 3600),
    Periodic("threadline.crisis.tasks.prune_mentions_task", 3600),
]


def acquire(holder: str, name: str = LOCK_NAME, *, ttl: dt.timedelta = LOCK_TTL) -> bool:
    """Take or renew the lease for `ttl`; True when `holder` holds it now.

    Each step is one conditional write, so of two schedulers racing for an expired lease exactly one wins
    (SQLite serializes writers; PostgreSQL re-checks the WHERE clause after the row lock).
    """
    moment = now()
    with transaction.atomic():
        updated = SchedulerLock.objects.filter(name=name, holder=holder).update(expires_at=moment + ttl)
        if updated:
            return True
        updated = SchedulerLock.objects.filter(name=name, expires_at__lt=moment).update(
            holder=holder, expires_at=moment + ttl
        )
        if updated:
            return True
    try:
        with transaction.atomic():
            SchedulerLock.objects.create(name=name, holder=holder, expires_at=moment + ttl)
        return True
    except IntegrityError:
        return False


def release(holder: str, name: str = LOCK_NAME) -> None:
    with transaction.atomic():
        SchedulerLock.objects.filter(name=name, holder=holder).delete()


def preload() -> int:
    """Import every periodic task's module now; returns how many load (a broken one is logged and skipped).

    Done before the first lease: commands skip Django's system checks, so nothing else has imported the
    tasks' modules, and a first tick importing a dozen domains on a loaded machine outlasted the lease
    (the standby took the lock while the leader was still enqueueing).
    """
    return sum(_load(entry) is not None for entry in PERIODIC)


def _load(entry: Periodic) -> Task[Any, Any] | None:
    """The entry's task, or None (logged) when its module fails to import: one broken task must not stop the
    others."""
    try:
        return resolve(entry.task)
    except Exception:  # noqa: BLE001 - one broken task must not stop the others
        logger.exception("periodic task %s cannot be loaded", entry.task)
        return None


def tick(moment: dt.datetime | None = None) -> int:
    """Enqueue every periodic task whose time slot has no job yet; returns how many were enqueued.

    A task that cannot be resolved (its module fails to import) is logged and skipped; the others run.
    """
    moment = moment or now()
    enqueued = 0
    for entry in PERIODIC:
        slot = math.floor(moment.timestamp() / entry.every_seconds)
        key = f"periodic:{entry.task}:{slot}"
        periodic_task = _load(entry)
        if periodic_task is None:
            continue
        with transaction.atomic():
            if not Job.objects.filter(unique_key=key).exists():
                periodic_task.enqueue(unique_key=key)
                enqueued += 1
    refresh_queue_depth()
    return enqueued


def refresh_queue_depth() -> dict[str, int]:
    depth = dict(Job.objects.values_list("state").annotate(n=Count("id")).order_by())
    for state in Job.State.values:
        metrics.QUEUE_DEPTH.labels(state).set(depth.get(state, 0))
    for refresh in DEPTH_SOURCES:  # e.g. the channels' intake (ADR 0008)
        depth.update(refresh())
    return depth


class Scheduler:
    """Ticks every `interval` seconds while it holds the lock; the lease lasts `lock_ttl`.

    `lock_ttl` must exceed `interval` (the lease is renewed each tick); it is how long a dead scheduler's
    lock blocks the others.
    """

    def __init__(
        self, *, holder: str | None = None, interval: float = 5.0, lock_ttl: dt.timedelta | float = LOCK_TTL
    ) -> None:
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.interval = interval
        self.lock_ttl = lock_ttl if isinstance(lock_ttl, dt.timedelta) else dt.timedelta(seconds=lock_ttl)
        if self.lock_ttl.total_seconds() <= interval:
            raise ValueError("the scheduler lock TTL must be longer than its interval")
        self.stopping = threading.Event()
        self.is_leader = False

    def run_once(self) -> bool:
        """One round: take or renew the lease, tick when holding it. True when this scheduler leads."""
        leader = acquire(self.holder, ttl=self.lock_ttl)
        if leader != self.is_leader:
            if leader:
                logger.info("scheduler %s took the lock", self.holder)
            else:
                logger.warning("scheduler %s lost the lock", self.holder)
        self.is_leader = leader
        if leader:
            enqueued = tick()
            if enqueued:
                logger.info("scheduler %s enqueued %d periodic jobs", self.holder, enqueued)
        return leader

    def run_forever(self) -> None:
        preload()
        logger.info("scheduler %s started (interval %.1fs, lock TTL %.1fs)", self.holder, self.interval,
                    self.lock_ttl.total_seconds())
        while not self.stopping.is_set():
            close_old_connections()
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - keep ticking through a passing database error
                logger.exception("scheduler tick failed")
            close_old_connections()  # not held while it waits: on PostgreSQL it goes back to the pool
            self.stopping.wait(self.interval)
        if self.is_leader:
            try:
                release(self.holder)
                logger.info("scheduler %s released the lock", self.holder)
            except Exception:  # noqa: BLE001 - the lease expires on its own
                logger.exception("scheduler %s could not release the lock", self.holder)
        close_old_connections()

    def stop(self) -> None:
        self.stopping.set()
