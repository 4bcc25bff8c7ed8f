"""SQLite writers of one process take turns: a request's write is not starved by a worker that commits and
begins again at once (issue 11: acknowledgements waited seconds behind back-to-back batch transactions)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db.utils import ConnectionHandler, OperationalError

from threadline.core.sqlite import base
from threadline.core.sqlite.base import AHEAD, BACKGROUND, FOREGROUND, Turns

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


def queue(turns: Turns, name: str, order: list[str], *, place: str) -> threading.Thread:
    """A thread that waits for the turn (queued behind the holder when this returns), notes it, hands it on."""
    def take() -> None:
        assert turns.acquire(timeout=10, place=place)
        order.append(name)
        turns.release()

    def queued() -> int:
        return len(turns._waiting) + len(turns._background) + len(turns._ahead)

    before = queued()
    thread = threading.Thread(target=take)
    thread.start()
    while queued() == before:
        threading.Event().wait(0.001)
    return thread


def handed_over(writers: list[tuple[str, str]]) -> list[str]:
    """The order in which `writers` (name, place), queued one after the other behind a holder, get the turn."""
    turns, order = Turns(), []
    assert turns.acquire(timeout=1)
    threads = [queue(turns, name, order, place=place) for name, place in writers]
    turns.release()
    for thread in threads:
        thread.join(10)
    return order


def test_foreground_writers_go_before_the_background_writer_that_queued_first():
    """The worker's transactions (`background()`) let the requests waiting meanwhile write first (issue 11)."""
    turns, order = Turns(), []
    assert turns.acquire(timeout=1)
    threads = [queue(turns, "worker", order, place=BACKGROUND), queue(turns, "request-a", order, place=FOREGROUND)]
    assert turns.foreground_waiting()
    threads.append(queue(turns, "request-b", order, place=FOREGROUND))
    turns.release()
    for thread in threads:
        thread.join(10)
    assert order == ["request-a", "request-b", "worker"]
    assert not turns.foreground_waiting()


def test_a_background_writer_past_its_patience_goes_first(monkeypatch):
    """A stream of requests cannot keep the worker out: once it has waited BACKGROUND_PATIENCE, it is next."""
    monkeypatch.setattr(base, "BACKGROUND_PATIENCE", 0)
    assert handed_over([("worker", BACKGROUND), ("request", FOREGROUND)]) == ["worker", "request"]


def test_a_worker_behind_its_backlog_goes_before_the_requests_that_queued_first():
    """Issue 11, a burst: once its jobs are late the worker's transactions (`background(ahead=True)`) go before
    the requests waiting, so the requests write in its gaps (acceptance paced by the backlog); after it, the
    requests in arrival order, then a worker that keeps up."""
    assert handed_over([("request-a", FOREGROUND), ("worker", BACKGROUND), ("request-b", FOREGROUND),
                        ("worker-behind", AHEAD)]) == ["worker-behind", "request-a", "request-b", "worker"]


def test_a_request_past_its_patience_goes_before_a_worker_that_is_behind(monkeypatch):
    """A worker that is behind cannot keep a request out until its busy timeout ("database is locked"): once
    the request has waited REQUEST_PATIENCE, it is next."""
    monkeypatch.setattr(base, "REQUEST_PATIENCE", 0)
    assert handed_over([("request", FOREGROUND), ("worker-behind", AHEAD)]) == ["request", "worker-behind"]


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
    holder.acquire(place=BACKGROUND)
    assert not holder.foreground_waiting()
    waiting = threading.Thread(target=waiter.acquire, kwargs={"place": FOREGROUND})
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


def test_a_request_lets_a_worker_of_another_process_that_is_behind_take_the_turn_file_first(tmp_path):
    """Across processes as within one (`THREADLINE_WORKER_PROCESS=1`): a worker behind its backlog waiting on the
    turn file shows it, and a request that comes meanwhile lets it take the lock first instead of racing it for
    the lock in `flock`, whose wake-up order is the kernel's."""
    path = str(tmp_path / "db.turns")
    holder, worker, request = (base.ProcessTurn(path) for _ in range(3))
    holder.acquire(place=FOREGROUND)
    order: list[str] = []

    def take(turn: base.ProcessTurn, name: str, place: str) -> None:
        turn.acquire(place=place, timeout=30)
        order.append(name)

    behind = threading.Thread(target=take, args=(worker, "worker-behind", AHEAD))
    behind.start()
    for _ in range(10_000):
        if holder.waiting(AHEAD):
            break
        threading.Event().wait(0.001)
    assert holder.waiting(AHEAD) and not holder.foreground_waiting()
    asking = threading.Thread(target=take, args=(request, "request", FOREGROUND))
    asking.start()
    threading.Event().wait(0.05)  # the request has looked at the flags: it waits for the worker, not in flock
    assert request.pending is None
    holder.release()
    behind.join(10)
    threading.Event().wait(0.05)
    assert order == ["worker-behind"]  # the request waits for the worker's transaction now
    worker.release()
    asking.join(10)
    assert order == ["worker-behind", "request"]
    request.release()


def test_a_flag_left_by_a_killed_process_delays_one_writer_only(tmp_path, monkeypatch):
    """A worker process killed while it waited, behind its backlog, never lowered its flag: the first request
    that let it go first for its whole patience and then found the lock free lowers it, so the next requests
    of every process write at once instead of waiting REQUEST_PATIENCE each."""
    monkeypatch.setattr(base, "REQUEST_PATIENCE", 0.2)
    request = base.ProcessTurn(str(tmp_path / "db.turns"))
    request.acquire(place=FOREGROUND)
    request.release()
    dead_slot = (request.pid + 1) % request.FLAG_BYTES
    request.flags[dead_slot] = request.WAITING_FLAGS[AHEAD][0]  # the killed worker's
    started = time.monotonic()
    request.acquire(place=FOREGROUND, timeout=10)
    request.release()
    assert time.monotonic() - started >= 0.2
    assert request.flags[dead_slot] == 0 and not request.waiting(AHEAD)  # the next writers do not wait for it


def test_a_writer_waits_for_the_turn_file_no_longer_than_its_timeout(tmp_path):
    """As SQLite's busy timeout: "database is locked" after `timeout`, the flag lowered; the thread left
    blocked in flock hands the lock to the next writer, or lets it go when nobody waits any more."""
    path = str(tmp_path / "db.turns")
    holder, waiter = base.ProcessTurn(path), base.ProcessTurn(path)
    holder.acquire(place=BACKGROUND)
    outcome: list[object] = []

    def wait(timeout: float = 0.3) -> None:
        try:
            waiter.acquire(place=FOREGROUND, timeout=timeout)
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
    holder.acquire(place=BACKGROUND, timeout=0)

    thread = threading.Thread(target=wait, args=(60,))
    thread.start()
    threading.Event().wait(0.05)
    holder.release()  # now a writer waits: the locker hands the lock to it
    thread.join(60)
    assert outcome[1:] == ["took it"]
    with pytest.raises(OperationalError, match="database is locked"):
        holder.acquire(place=BACKGROUND, timeout=0.05)
    waiter.release()
    holder.acquire(place=BACKGROUND, timeout=10)
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
