"""Django's SQLite backend, with the write transactions of one process taking turns, requests first.

SQLite lets one transaction write at a time. A writer that finds the database locked sleeps in growing
steps, up to 100 ms, before it tries again (busy_timeout), so a thread that commits and begins again at
once, as the job worker does batch after batch, can starve the request threads for seconds. Here each
write transaction (`BEGIN IMMEDIATE`, the mode `config/env.py` sets) of a process first waits for its turn
in a queue, and hands the turn on at commit, rollback or close: the writers of one process alternate
without sleeping. In-memory databases (the tests') are left alone.

Across processes (`serve` with its worker in a process of its own, or `threadline worker` beside `serve`), the
holder of a process's turn also holds an exclusive `flock` on a file beside the database (`<name>.turns`)
from before `BEGIN IMMEDIATE` until its commit, rollback or close (`ProcessTurn`): a writer of another process
blocks in the kernel and is woken the moment the lock is released, instead of sleeping in SQLite's busy
handler (growing steps up to 100 ms). A foreground writer that blocks there raises its process's byte in a
page of the same file, mapped shared by every process, so the worker of another process sees that a request
waits and commits its batch after the job in hand, as it does for a request of its own process, and lets
that request take the lock before it begins its next transaction. Both turns together wait at most the
connection's busy timeout (its `timeout` option), then fail with "database is locked" as SQLite would: a
writer hung inside its transaction in another process fails requests instead of holding them forever.

Three places in the queue (issue 11: acknowledgements waited behind the worker, then a burst waited for the
worker). A thread inside `background()` (the job worker keeping up) queues behind every other writer (a
request acknowledging a webhook), which gets the next turn first, and the worker closes its batch transaction
early when such a writer waits (`foreground_waiting`). So a request waits at most for the job the worker is
running, not for a whole batch nor for the batches queued behind it. A background writer that has waited
`BACKGROUND_PATIENCE` seconds goes next anyway, so a stream of requests cannot stop the worker. Requests first
holds while the worker keeps up: once the jobs it claims have waited longer than `jobs.worker.BEHIND_SECONDS`,
its transactions go *ahead* of the queued requests (`background(ahead=True)`), a whole batch at a time, so the
requests write only in the worker's gaps between transactions (one request per gap): acceptance is paced by
the backlog (backpressure) and a burst is processed while it is accepted instead of after it. A request that
has waited `REQUEST_PATIENCE` seconds goes next anyway, so a worker that is behind cannot make a request fail
with "database is locked". Across processes the places hold too (`ProcessTurn`: each process's waiting
writer shows its place in the turn file).
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import logging
import mmap
import os
import threading
import time
from collections.abc import Iterator

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

logger = logging.getLogger(__name__)

BACKGROUND_PATIENCE = 0.25  # seconds a background writer lets requests go first, at most
REQUEST_PATIENCE = 0.5  # seconds a request lets a worker that is behind its backlog go first, at most
# A writer's place in the queue for the turn: behind the requests (the worker keeping up), a request's (first
# come, first served), ahead of the requests (the worker behind its backlog).
BACKGROUND, FOREGROUND, AHEAD = "background", "foreground", "ahead"


class Turns:
    """A first-come, first-served lock with three queues, one per place: `release` hands it straight to the
    longest waiting writer ahead of the requests (unless a request has waited REQUEST_PATIENCE), else to the
    longest waiting request, else to the longest waiting background writer (or to that one before the requests
    once it has waited BACKGROUND_PATIENCE)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._ahead: collections.deque[tuple[float, threading.Event]] = collections.deque()
        self._waiting: collections.deque[tuple[float, threading.Event]] = collections.deque()
        self._background: collections.deque[tuple[float, threading.Event]] = collections.deque()
        self._held = False

    def _queue(self, place: str) -> collections.deque[tuple[float, threading.Event]]:
        return self._ahead if place == AHEAD else self._background if place == BACKGROUND else self._waiting

    def acquire(self, timeout: float, *, place: str = FOREGROUND) -> bool:
        with self._guard:
            if not self._held:
                self._held = True
                return True
            mine = (time.monotonic(), threading.Event())
            self._queue(place).append(mine)
        if mine[1].wait(timeout):
            return True
        with self._guard:
            queued = self._queue(place)
            if mine in queued:  # still queued: give up
                queued.remove(mine)
                return False
        return True  # handed over between the timeout and the guard

    def release(self) -> None:
        with self._guard:
            moment = time.monotonic()
            if self._waiting and moment - self._waiting[0][0] >= REQUEST_PATIENCE:
                self._waiting.popleft()[1].set()  # a request kept waiting by a worker that is behind
            elif self._ahead:
                self._ahead.popleft()[1].set()
            elif self._background and (not self._waiting or moment - self._background[0][0] >= BACKGROUND_PATIENCE):
                self._background.popleft()[1].set()  # the turn passes on; the lock stays held
            elif self._waiting:
                self._waiting.popleft()[1].set()
            else:
                self._held = False

    def foreground_waiting(self) -> bool:
        """True when a foreground writer waits for the turn (read without the guard: a hint)."""
        return bool(self._waiting)


class _Locker:
    """A thread blocked in `flock` for the writers of its process (`ProcessTurn.acquire`): they wait for it with
    a timeout, which `flock` has not. Started by the first writer that finds the lock taken; a writer that gives
    up leaves it blocked for the next one, and once it has the lock with nobody left waiting it lets it go."""

    def __init__(self, turn: ProcessTurn) -> None:
        self.turn = turn
        self.claimed = False  # a writer waits for this lock (set and read under the turn's guard)
        self.done = threading.Event()
        self.error: OSError | None = None
        threading.Thread(target=self.run, name="threadline-sqlite-turn", daemon=True).start()

    def run(self) -> None:
        turn = self.turn
        try:
            fcntl.flock(turn.fd, fcntl.LOCK_EX)  # in the kernel: woken the moment the holder lets go
        except OSError as exc:
            self.error = exc
        with turn.guard:
            turn.pending = None
            if self.claimed or self.error is not None:
                self.done.set()  # the waiting writer holds the lock now (or gets the error)
            else:
                fcntl.flock(turn.fd, fcntl.LOCK_UN)  # every writer gave up meanwhile: nobody's to hold


class ProcessTurn:
    """The write turn across the processes using one SQLite file: an exclusive `flock` on `<name>.turns`, whose
    first FLAG_BYTES bytes, mapped shared, hold one "a writer of mine waits, in this place" byte per process
    slot (WAITING_FLAGS: a request, or a worker behind its backlog).

    Only the holder of its process's turn (`WRITERS`) takes it, so one thread per process at a time: the
    descriptor is the process's own (opened again after a fork), and its slot byte has one writer.

    A writer waits for it at most its connection's busy timeout, as SQLite's own lock would make it wait, then
    fails with "database is locked" (a writer of another process hung inside its transaction must not hold
    requests forever). `flock` has no timeout, so a writer that finds the lock taken waits for a `_Locker`
    thread blocked in `flock` on the process's descriptor; only that thread calls `flock` while it waits (a
    second call on the same descriptor would "take" the lock it already waits for)."""

    FLAG_BYTES = 256
    WAITING_FLAGS = {FOREGROUND: b"\x01", AHEAD: b"\x02"}
    # the writers waiting in other processes that a writer in this place lets go first (for at most its patience)
    LETS_GO_FIRST = {BACKGROUND: (FOREGROUND, AHEAD), FOREGROUND: (AHEAD,)}

    def __init__(self, path: str) -> None:
        self.path = path
        self.broken = False
        self.pid = -1
        self.fd = -1
        self.flags: mmap.mmap | None = None
        self.guard = threading.Lock()
        self.pending: _Locker | None = None

    def _open(self) -> None:
        if self.pid == os.getpid():
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if os.fstat(fd).st_size < self.FLAG_BYTES:
            os.ftruncate(fd, self.FLAG_BYTES)  # zeros; never shrinks a file another process maps
        self.flags = mmap.mmap(fd, self.FLAG_BYTES)
        self.guard, self.pending = threading.Lock(), None  # after a fork: the parent's locker is not here
        self.fd, self.pid = fd, os.getpid()

    def acquire(self, *, place: str, timeout: float | None = None) -> None:
        """Take the lock. A background writer first lets a request or a worker that is behind, waiting in
        another process, go (flock hands nothing over: the writer that just released it would often take it
        straight back), for at most BACKGROUND_PATIENCE seconds; a request so lets a worker that is behind go,
        for at most REQUEST_PATIENCE. OperationalError ("database is locked") when another process keeps it
        `timeout` seconds (None: no limit); OSError when the file cannot be opened."""
        if self.broken:
            raise OSError(f"{self.path} could not be opened")
        self._open()
        deadline = None if timeout is None else time.monotonic() + timeout
        first, outwaited = self.LETS_GO_FIRST.get(place, ()), False
        if first and self.waiting(*first):
            patience = time.monotonic() + (BACKGROUND_PATIENCE if place == BACKGROUND else REQUEST_PATIENCE)
            if deadline is not None:
                patience = min(patience, deadline)
            while self.waiting(*first) and time.monotonic() < patience:
                time.sleep(0.0002)
            outwaited = self.waiting(*first)
        slot = self.pid % self.FLAG_BYTES
        flag = self.WAITING_FLAGS.get(place)
        assert self.flags is not None
        try:
            with self.guard:
                locker = self.pending
                if locker is None:
                    try:
                        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        if outwaited:  # free although flagged all along: left by a process killed while it waited
                            self._lower(first, keep=slot)
                        return
                    except BlockingIOError:  # another process writes: wait in the kernel (no sleeping in steps)
                        if flag:  # raised before the locker's thread starts, which takes a while under load
                            self.flags[slot] = flag[0]
                        locker = self.pending = _Locker(self)
                locker.claimed = True
            if flag:
                self.flags[slot] = flag[0]
            if not locker.done.wait(None if deadline is None else max(0.0, deadline - time.monotonic())):
                with self.guard:
                    if not locker.done.is_set():  # else handed over between the timeout and the guard
                        locker.claimed = False
                        raise OperationalError("database is locked (a writer of another process kept it)")
        finally:
            if flag:
                self.flags[slot] = 0
        if locker.error is not None:
            raise locker.error

    def release(self) -> None:
        if self.pid == os.getpid():
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def _lower(self, places: tuple[str, ...], *, keep: int) -> None:
        """Lower the flags of `places` of every other slot: after a writer let them go first for its whole
        patience and then found the lock free, they are stale (a writer cannot wait while the lock is free for
        long; a process killed while it waited never lowered its flag). One raised right now is only lowered
        early: that writer then waits its turn without its place."""
        assert self.flags is not None
        values = {self.WAITING_FLAGS[place][0] for place in places}
        for index, value in enumerate(self.flags[:self.FLAG_BYTES]):
            if value in values and index != keep:
                self.flags[index] = 0

    def waiting(self, *places: str) -> bool:
        """True when a writer of any process waits for this file's turn in one of `places` (a hint)."""
        if self.flags is None or self.pid != os.getpid():
            return False
        return any(self.flags.find(self.WAITING_FLAGS[place]) >= 0 for place in places)

    def foreground_waiting(self) -> bool:
        """True when a foreground writer of any process waits for this file's turn (a hint)."""
        return self.waiting(FOREGROUND)


WRITERS = Turns()
PROCESS_TURNS: dict[str, ProcessTurn] = {}
_process_turns_guard = threading.Lock()
WRITE_MODES = {"IMMEDIATE", "EXCLUSIVE"}
_role = threading.local()


@contextlib.contextmanager
def background(*, ahead: bool = False) -> Iterator[None]:
    """The write transactions this thread begins inside the block queue behind other writers (the worker
    keeping up); with `ahead`, before the requests waiting (the worker behind its backlog,
    `jobs.worker.BEHIND_SECONDS`)."""
    outer = getattr(_role, "place", FOREGROUND)
    _role.place = AHEAD if ahead else BACKGROUND
    try:
        yield
    finally:
        _role.place = outer


def foreground_waiting() -> bool:
    """True when a writer outside `background()` waits for this process's turn, or for the turn of another
    process on the same database: the worker's cue to commit."""
    return WRITERS.foreground_waiting() or any(turn.foreground_waiting() for turn in list(PROCESS_TURNS.values()))


def process_turn(path: str) -> ProcessTurn:
    turn = PROCESS_TURNS.get(path)
    if turn is None:
        with _process_turns_guard:
            turn = PROCESS_TURNS.setdefault(path, ProcessTurn(f"{path}.turns"))
    return turn


@contextlib.contextmanager
def statement_turn(connection: base.DatabaseWrapper) -> Iterator[None]:
    """A write statement run outside a transaction (autocommit) in this process's turn of writers, like a
    transaction's: the worker's claim. Without it the statement contends at SQLite's lock, where a request
    meeting it sleeps in the busy handler. Elsewhere (PostgreSQL, inside a transaction) it does nothing."""
    if not isinstance(connection, DatabaseWrapper) or connection.has_turn or connection.is_in_memory_db():
        yield
        return
    connection.take_turn()
    try:
        yield
    finally:
        connection._end_turn()


class Idle:
    """Open SQLite connections a closing request hands back for the next one (`serve` closes each request's
    connection at its end, `close_connections_after_each_request`, and opening one with its PRAGMAs cost 3-4 ms
    of a 10 ms contact lookup at load 13, issue 11). Off unless `keep` is set; only connections outside a
    transaction come back."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._idle: dict[str, list[object]] = {}
        self.keep = 0  # connections kept per database file; 0: every close closes

    def take(self, name: str) -> object | None:
        with self._guard:
            idle = self._idle.get(name)
            return idle.pop() if idle else None

    def give(self, name: str, raw: object) -> bool:
        with self._guard:
            idle = self._idle.setdefault(name, [])
            if len(idle) >= self.keep:
                return False
            idle.append(raw)
            return True

    def close_all(self) -> None:
        with self._guard:
            idle, self._idle = self._idle, {}
        for raws in idle.values():
            for raw in raws:
                raw.close()  # type: ignore[attr-defined]


IDLE = Idle()


def keep_connections(count: int) -> None:
    """Let this process reuse up to `count` closed connections per database file (serve's requests)."""
    IDLE.keep = count


class DatabaseWrapper(base.DatabaseWrapper):
    has_turn = False
    held_process_turn: ProcessTurn | None = None

    def get_new_connection(self, conn_params: dict) -> object:
        if IDLE.keep and not self.is_in_memory_db():
            raw = IDLE.take(str(self.settings_dict["NAME"]))
            if raw is not None:
                return raw
        return super().get_new_connection(conn_params)

    def take_turn(self) -> None:
        """This process's turn, then the turn of the processes on this file, within the busy timeout (the
        connection's `timeout` option, as SQLite would wait for its own lock), or "database is locked"."""
        place = getattr(_role, "place", FOREGROUND)
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        deadline = time.monotonic() + timeout
        if not WRITERS.acquire(timeout=timeout, place=place):
            raise OperationalError("database is locked (this process's other writers kept it)")
        self.has_turn = True
        turn = process_turn(str(self.settings_dict["NAME"]))
        try:
            turn.acquire(place=place, timeout=max(0.0, deadline - time.monotonic()))
        except OSError as exc:  # no turn file beside the database (read-only folder): this process's turns only
            if not turn.broken:
                logger.warning("SQLite writers of other processes will not take turns with this one: %s", exc)
            turn.broken = True
            return
        except BaseException:
            self._end_turn()
            raise
        self.held_process_turn = turn

    def _start_transaction_under_autocommit(self) -> None:
        if self.transaction_mode in WRITE_MODES and not self.has_turn and not self.is_in_memory_db():
            self.take_turn()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._end_turn()
            raise

    def _end_turn(self) -> None:
        if self.has_turn:
            self.has_turn = False
            turn, self.held_process_turn = self.held_process_turn, None
            try:
                if turn is not None:
                    turn.release()
            finally:
                WRITERS.release()

    def _commit(self) -> None:
        try:
            super()._commit()
        finally:
            self._end_turn()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._end_turn()

    def _close(self) -> None:
        try:
            raw = self.connection
            if not (IDLE.keep and raw is not None and not raw.in_transaction and not self.is_in_memory_db()
                    and IDLE.give(str(self.settings_dict["NAME"]), raw)):
                super()._close()
        finally:
            self._end_turn()
