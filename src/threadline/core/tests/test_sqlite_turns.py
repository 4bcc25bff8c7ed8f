"""SQLite writers of one process take turns: a request's write is not starved by a worker that commits and
begins again at once (issue 11: acknowledgements waited seconds behind back-to-back batch transactions)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db.utils import ConnectionHandler, OperationalError

from threadline.core.sqlite import base
from threadline.core.sqlite.base import Turns

ROUNDS = 400
ENGINE = "threadline.core.sqlite"


def transaction_on(connection, statement: str, params: tuple) -> None:
    """One write transaction, begun the way `transaction.atomic()` begins it."""
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
    connection.commit()
    connection.set_autocommit(True)


def queue_jump(tmp_path, engine: str) -> int:
    """How many transactions a busy writer commits after another thread asked to write, before it may."""
    handler = ConnectionHandler({"default": {
        "ENGINE": engine, "NAME": str(tmp_path / "turns.sqlite3"),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL"},
    }})
    setup = handler["default"]
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, who TEXT, n INTEGER)")
    setup.close()
    busy_started, asked = threading.Event(), []

    def busy() -> None:  # a worker running batch after batch
        for n in range(ROUNDS):
            transaction_on(handler["default"], "INSERT INTO log (who, n) VALUES (%s, %s)", ("worker", n))
            if n == 20:
                busy_started.set()
        handler["default"].close()

    def request() -> None:
        busy_started.wait()
        with handler["default"].cursor() as cursor:
            asked.append(cursor.execute("SELECT MAX(n) FROM log WHERE who = 'worker'").fetchone()[0])
        transaction_on(handler["default"], "INSERT INTO log (who, n) VALUES (%s, %s)", ("request", 0))
        handler["default"].close()

    threads = [threading.Thread(target=busy), threading.Thread(target=request)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    check = handler["default"]
    with check.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM log WHERE who = 'worker' AND id < "
                       "(SELECT id FROM log WHERE who = 'request')")
        before_request = cursor.fetchone()[0]
    check.close()
    return before_request - 1 - asked[0]


def test_a_writer_gets_the_next_turn_behind_a_worker_that_writes_back_to_back(tmp_path, django_db_blocker):
    """With Django's own backend the waiting writer, asleep in SQLite's busy handler, often sees the worker
    commit tens or hundreds of transactions first (and sometimes none): three tries catch it."""
    with django_db_blocker.unblock():  # database files of their own, not the test database
        for attempt in range(3):
            (tmp_path / str(attempt)).mkdir()
            assert queue_jump(tmp_path / str(attempt), ENGINE) <= 2


def test_turns_are_handed_over_in_arrival_order():
    turns, order = Turns(), []
    assert turns.acquire(timeout=1)
    waiting = []
    for name in "abc":
        ready = threading.Event()

        def take(name: str = name, ready: threading.Event = ready) -> None:
            ready.set()
            assert turns.acquire(timeout=10)
            order.append(name)
            turns.release()

        thread = threading.Thread(target=take)
        thread.start()
        ready.wait()
        while len(turns._waiting) < len(waiting) + 1:  # queued behind the holder
            threading.Event().wait(0.001)
        waiting.append(thread)
    turns.release()
    for thread in waiting:
        thread.join(10)
    assert order == ["a", "b", "c"]
    assert not turns.acquire(timeout=0) or turns.release() is None


def queue(turns: Turns, name: str, order: list[str], *, background: bool) -> threading.Thread:
    """A thread that waits for the turn (queued behind the holder when this returns), notes it, hands it on."""
    def take() -> None:
        assert turns.acquire(timeout=10, background=background)
        order.append(name)
        turns.release()

    queued = len(turns._waiting) + len(turns._background)
    thread = threading.Thread(target=take)
    thread.start()
    while len(turns._waiting) + len(turns._background) == queued:
        threading.Event().wait(0.001)
    return thread


def test_foreground_writers_go_before_the_background_writer_that_queued_first():
    """The worker's transactions (`background()`) let the requests waiting meanwhile write first (issue 11)."""
    turns, order = Turns(), []
    assert turns.acquire(timeout=1)
    threads = [queue(turns, "worker", order, background=True), queue(turns, "request-a", order, background=False)]
    assert turns.foreground_waiting()
    threads.append(queue(turns, "request-b", order, background=False))
    turns.release()
    for thread in threads:
        thread.join(10)
    assert order == ["request-a", "request-b", "worker"]
    assert not turns.foreground_waiting()


def test_a_background_writer_past_its_patience_goes_first(monkeypatch):
    """A stream of requests cannot keep the worker out: once it has waited BACKGROUND_PATIENCE, it is next."""
    monkeypatch.setattr(base, "BACKGROUND_PATIENCE", 0)
    turns, order = Turns(), []
    assert turns.acquire(timeout=1)
    threads = [queue(turns, "worker", order, background=True), queue(turns, "request", order, background=False)]
    turns.release()
    for thread in threads:
        thread.join(10)
    assert order == ["worker", "request"]


BUSY_IN_ANOTHER_PROCESS = """
import sys
from django.db.utils import ConnectionHandler
from threadline.core.sqlite import base
handler = ConnectionHandler({{"default": {{
    "ENGINE": "threadline.core.sqlite", "NAME": {name!r},
    "OPTIONS": {{"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL"}},
}}}})
connection = handler["default"]
with base.background():  # the worker of serve's worker process
    for n in range({rounds}):
        connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO log (who, n) VALUES ('worker', %s)", (n,))
        connection.commit()
        connection.set_autocommit(True)
        if n == 20:
            print("busy", flush=True)
"""


def test_a_request_gets_the_next_turn_behind_a_worker_of_another_process(tmp_path, django_db_blocker):
    """Across processes (serve's worker process): the request blocks on the turn file's flock, raises its
    flag, and the worker lets it write before its next transaction; without the cross-process turn it slept in
    SQLite's busy handler while the other process committed transaction after transaction."""
    import subprocess
    import sys

    from threadline.testing.server import process_env

    name = str(tmp_path / "turns.sqlite3")
    handler = ConnectionHandler({"default": {
        "ENGINE": ENGINE, "NAME": name,
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL"},
    }})
    with django_db_blocker.unblock():
        connection = handler["default"]
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, who TEXT, n INTEGER)")
        worker = subprocess.Popen([sys.executable, "-c", BUSY_IN_ANOTHER_PROCESS.format(name=name, rounds=ROUNDS * 5)],
                                  env=process_env(tmp_path, None), stdout=subprocess.PIPE, text=True)
        try:
            assert worker.stdout.readline().strip() == "busy"
            with connection.cursor() as cursor:
                asked = cursor.execute("SELECT MAX(n) FROM log WHERE who = 'worker'").fetchone()[0]
            transaction_on(connection, "INSERT INTO log (who, n) VALUES (%s, %s)", ("request", 0))
            assert worker.wait(120) == 0
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM log WHERE who = 'worker' AND id < "
                               "(SELECT id FROM log WHERE who = 'request')")
                before_request = cursor.fetchone()[0]
        finally:
            worker.kill()
            connection.close()
    assert before_request - 1 - asked <= 2


def test_a_foreground_writer_waiting_on_the_turn_file_is_seen_by_the_holder(tmp_path):
    """Two descriptors of one file conflict as two processes do: the waiter's flag shows while it waits."""
    holder, waiter = base.ProcessTurn(str(tmp_path / "db.turns")), base.ProcessTurn(str(tmp_path / "db.turns"))
    holder.acquire(foreground=False)
    assert not holder.foreground_waiting()
    waiting = threading.Thread(target=waiter.acquire, kwargs={"foreground": True})
    waiting.start()
    for _ in range(10_000):
        if holder.foreground_waiting():
            break
        threading.Event().wait(0.001)
    assert holder.foreground_waiting() and waiting.is_alive()
    holder.release()
    waiting.join(10)
    assert not waiting.is_alive() and not holder.foreground_waiting()
    waiter.release()


def test_a_writer_waits_for_the_turn_file_no_longer_than_its_timeout(tmp_path):
    """As SQLite's busy timeout: "database is locked" after `timeout`, the flag lowered; the thread left
    blocked in flock hands the lock to the next writer, or lets it go when nobody waits any more."""
    path = str(tmp_path / "db.turns")
    holder, waiter = base.ProcessTurn(path), base.ProcessTurn(path)
    holder.acquire(foreground=False)
    outcome: list[object] = []

    def wait(timeout: float = 0.3) -> None:
        try:
            waiter.acquire(foreground=True, timeout=timeout)
            outcome.append("took it")
        except OperationalError as exc:
            outcome.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=wait)
    thread.start()
    thread.join(60)
    assert not thread.is_alive() and time.monotonic() - started >= 0.3
    [error] = outcome
    assert isinstance(error, OperationalError) and "database is locked" in str(error)
    assert not holder.foreground_waiting()

    holder.release()  # the waiter's locker takes it, nobody claims it: it lets it go
    for _ in range(10_000):
        if waiter.pending is None:
            break
        threading.Event().wait(0.001)
    holder.acquire(foreground=False, timeout=0)

    thread = threading.Thread(target=wait, args=(60,))
    thread.start()
    threading.Event().wait(0.05)
    holder.release()  # now a writer waits: the locker hands the lock to it
    thread.join(60)
    assert outcome[1:] == ["took it"]
    with pytest.raises(OperationalError, match="database is locked"):
        holder.acquire(foreground=False, timeout=0.05)
    waiter.release()
    holder.acquire(foreground=False, timeout=10)
    holder.release()


HUNG_IN_ANOTHER_PROCESS = """
import time
from django.db.utils import ConnectionHandler
handler = ConnectionHandler({{"default": {{
    "ENGINE": "threadline.core.sqlite", "NAME": {name!r},
    "OPTIONS": {{"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL"}},
}}}})
connection = handler["default"]
connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
with connection.cursor() as cursor:
    cursor.execute("INSERT INTO log (who, n) VALUES ('hung', 0)")
print("holding", flush=True)
time.sleep(3600)  # hung inside its write transaction
"""


def test_a_writer_hung_in_another_process_fails_a_request_after_the_busy_timeout(tmp_path, django_db_blocker):
    """The cross-process turn waits no longer than SQLite itself would (the connection's `timeout`): the request
    gets "database is locked", and writes again once the hung process is gone."""
    import subprocess
    import sys

    from threadline.testing.server import process_env

    name = str(tmp_path / "turns.sqlite3")
    handler = ConnectionHandler({"default": {
        "ENGINE": ENGINE, "NAME": name,
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 1, "init_command": "PRAGMA journal_mode=WAL"},
    }})
    outcome: list[object] = []

    def request() -> None:
        try:
            transaction_on(handler["default"], "INSERT INTO log (who, n) VALUES (%s, %s)", ("request", 0))
            outcome.append("written")
        except OperationalError as exc:
            outcome.append(exc)
        finally:
            handler["default"].close()

    with django_db_blocker.unblock():
        with handler["default"].cursor() as cursor:
            cursor.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, who TEXT, n INTEGER)")
        handler["default"].close()
        hung = subprocess.Popen([sys.executable, "-c", HUNG_IN_ANOTHER_PROCESS.format(name=name)],
                                env=process_env(tmp_path, None), stdout=subprocess.PIPE, text=True)
        try:
            assert hung.stdout.readline().strip() == "holding"
            thread = threading.Thread(target=request)
            thread.start()
            thread.join(60)
            assert not thread.is_alive(), "the request still waits for the hung process"
            [error] = outcome
            assert isinstance(error, OperationalError) and "database is locked" in str(error)
        finally:
            hung.kill()
            hung.wait(30)
        thread = threading.Thread(target=request)
        thread.start()
        thread.join(60)
    assert outcome[1:] == ["written"]
