"""PostgreSQL connections come from a per-process pool (Django 5.2's OPTIONS["pool"], psycopg-pool) sized from
the process's threads, and every thread that waits hands its connection back (issue 11: `serve` opened one
per request, 20–230 ms each under load)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connection, connections

from threadline.config import env
from threadline.core.db_pool import fit_pool
from threadline.jobs import scheduler

POSTGRES_URL = "postgres://u:p@db.example:5432/threadline"


def test_postgresql_is_pooled_with_sizes_from_the_threads(monkeypatch):
    for name in ("DB_POOL_MIN", "DB_POOL_MAX", "WORKER_CONCURRENCY", "WEB_THREADS"):
        monkeypatch.delenv(f"THREADLINE_{name}", raising=False)
    monkeypatch.setenv("THREADLINE_DATABASE_URL", POSTGRES_URL)
    config = env.database_config(env.data_dir())
    assert config["CONN_MAX_AGE"] == 0  # Django refuses a pool with persistent connections
    # 2 workers + the scheduler + the requests' share
    assert config["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 3 + env.WEB_CONNECTIONS,
                                         "name": "threadline", "timeout": 30.0}
    monkeypatch.setenv("THREADLINE_WORKER_CONCURRENCY", "6")
    assert env.database_config(env.data_dir())["OPTIONS"]["pool"]["max_size"] == 7 + env.WEB_CONNECTIONS
    monkeypatch.setenv("THREADLINE_WEB_THREADS", "32")  # the requests' share follows the web's threads
    assert env.database_config(env.data_dir())["OPTIONS"]["pool"]["max_size"] == 7 + 32
    monkeypatch.setenv("THREADLINE_DB_POOL_MIN", "4")
    monkeypatch.setenv("THREADLINE_DB_POOL_MAX", "3")
    assert env.database_pool() == {"min_size": 3, "max_size": 3, "name": "threadline", "timeout": 30.0}


def test_the_web_threads_are_a_positive_whole_number(monkeypatch):
    monkeypatch.delenv("THREADLINE_WEB_THREADS", raising=False)
    assert env.web_threads() == env.WEB_CONNECTIONS == 10
    monkeypatch.setenv("THREADLINE_WEB_THREADS", "24")
    assert env.web_threads() == 24
    for wrong in ("0", "-2", "many"):
        monkeypatch.setenv("THREADLINE_WEB_THREADS", wrong)
        with pytest.raises(ValueError, match="THREADLINE_WEB_THREADS"):
            env.web_threads()


def test_the_pool_can_be_turned_off_and_bad_sizes_are_named(monkeypatch):
    monkeypatch.setenv("THREADLINE_DATABASE_URL", POSTGRES_URL + "?sslmode=require")
    monkeypatch.setenv("THREADLINE_DB_POOL_MAX", "0")  # e.g. behind PgBouncer
    config = env.database_config(env.data_dir())
    assert "pool" not in config["OPTIONS"] and config["OPTIONS"]["sslmode"] == "require"
    assert config["CONN_MAX_AGE"] == 60
    monkeypatch.setenv("THREADLINE_DB_POOL_MAX", "ten")
    with pytest.raises(ValueError, match="THREADLINE_DB_POOL_MAX"):
        env.database_pool()
    monkeypatch.setenv("THREADLINE_DB_POOL_MAX", "-1")
    with pytest.raises(ValueError, match="THREADLINE_DB_POOL_MAX"):
        env.database_pool()


def test_sqlite_is_not_pooled(monkeypatch, tmp_path):
    monkeypatch.delenv("THREADLINE_DATABASE_URL", raising=False)
    config = env.database_config(tmp_path)
    assert "pool" not in config["OPTIONS"] and "CONN_MAX_AGE" not in config


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_hands_its_connection_back_while_it_waits(monkeypatch):
    seen: dict[str, object] = {}
    ticked = threading.Event()

    def run_once(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        seen["wrapper"] = connections["default"]  # this thread's own, not the proxy
        ticked.set()
        return True

    monkeypatch.setattr(scheduler.Scheduler, "run_once", run_once)
    monkeypatch.setattr(scheduler, "preload", lambda: None)
    ticking = scheduler.Scheduler(holder="pool-test", interval=30, lock_ttl=60)
    thread = threading.Thread(target=ticking.run_forever, daemon=True)
    thread.start()
    try:
        assert ticked.wait(10)
        deadline = time.monotonic() + 5
        while seen["wrapper"].connection is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen["wrapper"].connection is None  # not held through the 30 s wait
    finally:
        ticking.stop()
        thread.join(10)


postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's pool")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_threads_reuse_the_pools_connections_instead_of_opening_new_ones():
    assert connection.settings_dict["CONN_MAX_AGE"] == 0 and connection.pool is not None

    def backend() -> None:  # what a request's thread does: one query, then Django closes at its end
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.append(cursor.fetchone()[0])
        finally:
            close_old_connections()

    pids: list[int] = []
    for _ in range(8):  # one after the other, each in a thread of its own like requests under ASGI
        thread = threading.Thread(target=backend)
        thread.start()
        thread.join(10)
    assert len(pids) == 8
    assert len(set(pids)) <= connection.pool.min_size + 1  # without the pool: 8 connections opened
    stats = connection.pool.get_stats()
    assert stats["pool_size"] <= connection.pool.max_size


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_with_more_threads_gets_a_bigger_pool(monkeypatch):
    monkeypatch.delenv("THREADLINE_DB_POOL_MAX", raising=False)
    options = connections["default"].settings_dict["OPTIONS"]
    before = dict(options["pool"])
    try:
        fit_pool(before["max_size"] + 5)
        assert options["pool"]["max_size"] == before["max_size"] + 5 + env.WEB_CONNECTIONS
        assert connection.pool.max_size == options["pool"]["max_size"]
        with connection.cursor() as cursor:  # the new pool serves
            cursor.execute("SELECT 1")
        fit_pool(1)  # never shrinks
        assert options["pool"]["max_size"] == before["max_size"] + 5 + env.WEB_CONNECTIONS
    finally:
        connection.close()
        connection.close_pool()
        options["pool"] = before


def test_worker_processes_prepare_what_they_run_again_and_web_processes_do_not(monkeypatch):
    monkeypatch.setenv("THREADLINE_DATABASE_URL", POSTGRES_URL)
    for name in ("DB_POOL_MAX", "DB_PREPARE"):
        monkeypatch.setenv(f"THREADLINE_{name}", "")  # recorded, so what prepare_in_workers sets is undone
        monkeypatch.delenv(f"THREADLINE_{name}")
    assert "server_side_binding" not in env.database_config(env.data_dir())["OPTIONS"]  # a web process
    env.prepare_in_workers()  # what `threadline worker` and the worker process of `serve` do first
    options = env.database_config(env.data_dir())["OPTIONS"]
    assert options["server_side_binding"] is True and options["prepare_threshold"] == env.PREPARE_AFTER == 2
    monkeypatch.setenv("THREADLINE_DB_PREPARE", "0")  # the operator's setting wins
    env.prepare_in_workers()
    assert "server_side_binding" not in env.database_config(env.data_dir())["OPTIONS"]
    monkeypatch.delenv("THREADLINE_DB_PREPARE")
    monkeypatch.setenv("THREADLINE_DB_POOL_MAX", "0")  # behind a transaction-mode PgBouncer: text statements
    env.prepare_in_workers()
    assert "prepare_threshold" not in env.database_config(env.data_dir())["OPTIONS"]
    monkeypatch.setenv("THREADLINE_DB_PREPARE", "3")  # PgBouncer 1.21 or later keeps prepared statements
    assert env.database_config(env.data_dir())["OPTIONS"]["prepare_threshold"] == 3
    monkeypatch.setenv("THREADLINE_DB_PREPARE", "-1")
    with pytest.raises(ValueError, match="THREADLINE_DB_PREPARE"):
        env.database_config(env.data_dir())


WORKER_CONNECTION = """
from threadline.config import env
env.prepare_in_workers()  # as `threadline worker` and jobs/child.py do before Django starts
import django
django.setup()
from django.db import connection
def prepared():
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_prepared_statements WHERE statement = 'SELECT 40 + $1'")
        return cursor.fetchone()[0]
counts = []
for _ in range(3):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 40 + %s", [2])
        assert cursor.fetchone()[0] == 42
    counts.append(prepared())
print(counts)
"""


@postgresql_only
def test_a_worker_process_prepares_a_statement_it_runs_again_on_the_server():
    import os
    import subprocess
    import sys

    environ = {name: value for name, value in os.environ.items() if name != "THREADLINE_DB_PREPARE"}
    out = subprocess.run([sys.executable, "-c", WORKER_CONNECTION], env=environ, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip().splitlines()[-1] == "[0, 0, 1]"  # run twice (the threshold), prepared at the third
