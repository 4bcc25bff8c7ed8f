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
from dataclasses import dataclass

from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Count

from threadline.core import metrics
from threadline.core.time import now
from threadline.jobs.models import Job, SchedulerLock
from threadline.jobs.registry import resolve

logger = logging.getLogger(__name__)

LOCK_NAME = "scheduler"
LOCK_TTL = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class Periodic:
    task: str
    every_seconds: int


PERIODIC: list[Periodic] = [
    Periodic("threadline.jobs.tasks.prune_finished_jobs_task", 3600),
]


def acquire(holder: str, name: str = LOCK_NAME) -> bool:
    """Take or renew the lease; True when `holder` holds it now."""
    moment = now()
    with transaction.atomic():
        updated = SchedulerLock.objects.filter(name=name, holder=holder).update(expires_at=moment + LOCK_TTL)
        if updated:
            return True
        updated = SchedulerLock.objects.filter(name=name, expires_at__lt=moment).update(
            holder=holder, expires_at=moment + LOCK_TTL
        )
        if updated:
            return True
    try:
        with transaction.atomic():
            SchedulerLock.objects.create(name=name, holder=holder, expires_at=moment + LOCK_TTL)
        return True
    except IntegrityError:
        return False


def release(holder: str, name: str = LOCK_NAME) -> None:
    with transaction.atomic():
        SchedulerLock.objects.filter(name=name, holder=holder).delete()


def tick(moment: dt.datetime | None = None) -> int:
    """Enqueue every periodic task whose time slot has no job yet; returns how many were enqueued."""
    moment = moment or now()
    enqueued = 0
    for entry in PERIODIC:
        slot = math.floor(moment.timestamp() / entry.every_seconds)
        key = f"periodic:{entry.task}:{slot}"
        with transaction.atomic():
            if not Job.objects.filter(unique_key=key).exists():
                resolve(entry.task).enqueue(unique_key=key)
                enqueued += 1
    refresh_queue_depth()
    return enqueued


def refresh_queue_depth() -> dict[str, int]:
    depth = dict(Job.objects.values_list("state").annotate(n=Count("id")).order_by())
    for state in Job.State.values:
        metrics.QUEUE_DEPTH.labels(state).set(depth.get(state, 0))
    return depth


class Scheduler:
    def __init__(self, *, holder: str | None = None, interval: float = 5.0) -> None:
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.interval = interval
        self.stopping = threading.Event()
        self.is_leader = False

    def run_forever(self) -> None:
        logger.info("scheduler %s started", self.holder)
        while not self.stopping.is_set():
            close_old_connections()
            try:
                leader = acquire(self.holder)
                if leader != self.is_leader:
                    logger.info("scheduler %s %s the lock", self.holder, "took" if leader else "lost")
                self.is_leader = leader
                if leader:
                    tick()
            except Exception:  # noqa: BLE001 - keep ticking through a passing database error
                logger.exception("scheduler tick failed")
            self.stopping.wait(self.interval)
        if self.is_leader:
            release(self.holder)
        close_old_connections()

    def stop(self) -> None:
        self.stopping.set()
