"""The scheduler's lease lock and its periodic ticks (in process; two real processes in tests/)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from threadline.jobs import scheduler
from threadline.jobs.models import Job, SchedulerLock

START = dt.datetime(2026, 3, 2, 9, 0, 30, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_one_holder_at_a_time_until_the_lease_expires(db, clock):
    ttl = dt.timedelta(seconds=10)
    assert scheduler.acquire("a", ttl=ttl)
    assert not scheduler.acquire("b", ttl=ttl)
    clock.shift(dt.timedelta(seconds=9))
    assert scheduler.acquire("a", ttl=ttl)  # renewed
    clock.shift(dt.timedelta(seconds=9))
    assert not scheduler.acquire("b", ttl=ttl)
    clock.shift(dt.timedelta(seconds=2))
    assert scheduler.acquire("b", ttl=ttl)  # a stopped renewing: b takes over
    assert not scheduler.acquire("a", ttl=ttl)
    scheduler.release("a")  # not the holder: no effect
    assert SchedulerLock.objects.get().holder == "b"
    scheduler.release("b")
    assert scheduler.acquire("a", ttl=ttl)


def test_tick_enqueues_once_per_slot_and_skips_a_task_that_cannot_load(db, clock, monkeypatch):
    monkeypatch.setattr(scheduler, "PERIODIC", [
        scheduler.Periodic("threadline.nowhere.tasks.missing_task", 60),
        scheduler.Periodic("threadline.jobs.tasks.prune_finished_jobs_task", 60),
    ])
    assert scheduler.tick() == 1
    assert scheduler.tick() == 0  # same minute
    clock.shift(dt.timedelta(seconds=45))
    assert scheduler.tick() == 1  # next minute
    minute = int(START.timestamp()) // 60
    keys = sorted(Job.objects.values_list("unique_key", flat=True))
    assert keys == [f"periodic:threadline.jobs.tasks.prune_finished_jobs_task:{slot}" for slot in (minute, minute + 1)]


def test_scheduler_round_leads_only_with_the_lock(db, clock, monkeypatch):
    monkeypatch.setattr(scheduler, "PERIODIC", [scheduler.Periodic("threadline.jobs.tasks.prune_finished_jobs_task", 60)])
    leader = scheduler.Scheduler(holder="one", interval=1, lock_ttl=5)
    standby = scheduler.Scheduler(holder="two", interval=1, lock_ttl=5)
    assert leader.run_once() and not standby.run_once()
    assert Job.objects.count() == 1
    with pytest.raises(ValueError):
        scheduler.Scheduler(interval=5, lock_ttl=5)


def test_the_periodic_tasks_are_loaded_before_the_first_lease(db, monkeypatch):
    # A first tick that imported the tasks' modules outlasted a 2 s lease on a loaded machine: the standby
    # took the lock while the leader was still enqueueing (tests/test_server_scheduler.py).
    monkeypatch.setattr(scheduler, "PERIODIC", [
        scheduler.Periodic("threadline.nowhere.tasks.missing_task", 60),
        scheduler.Periodic("threadline.jobs.tasks.prune_finished_jobs_task", 60),
    ])
    calls: list[str] = []
    resolve = scheduler.resolve
    monkeypatch.setattr(scheduler, "resolve", lambda name: (calls.append(f"load {name}"), resolve(name))[1])
    standby = scheduler.Scheduler(holder="one", interval=0.01, lock_ttl=1)

    def acquire(holder, ttl):
        calls.append("lease")
        standby.stop()
        return False

    monkeypatch.setattr(scheduler, "acquire", acquire)
    standby.run_forever()
    assert calls == ["load threadline.nowhere.tasks.missing_task", "load threadline.jobs.tasks.prune_finished_jobs_task",
                     "lease"]


def test_the_planner_statistics_are_refreshed_every_hour_on_sqlite(db):
    from django.db import connection

    from threadline.jobs.tasks import refresh_statistics_task
    from threadline.testing.factories import make_workspace

    assert any(p.task.endswith("refresh_statistics_task") and p.every_seconds == 3600 for p in scheduler.PERIODIC)
    make_workspace()
    refreshed = refresh_statistics_task()
    if connection.vendor != "sqlite":
        assert refreshed is False  # autovacuum keeps PostgreSQL's
        return
    assert refreshed is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        analysed = {row[0] for row in cursor.fetchall()}
    assert {"tenancy_workspace", "tenancy_membership"} <= analysed
