"""Django's SQLite backend, with the write transactions of one process taking turns in arrival order.

SQLite lets one transaction write at a time. A writer that finds the database locked sleeps in growing
steps, up to 100 ms, before it tries again (busy_timeout), so a thread that commits and begins again at
once, as the job worker does batch after batch, can starve the request threads for seconds. Here each
write transaction (`BEGIN IMMEDIATE`, the mode `config/env.py` sets) of a process first waits for its turn
in a first-come, first-served queue, and hands the turn on at commit, rollback or close: the writers of one
process alternate without sleeping. Writers of other processes still wait with busy_timeout. In-memory
databases (the tests') are left alone.
"""

from __future__ import annotations

import collections
import threading

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError


class Turns:
    """A first-come, first-served lock: `release` hands it straight to the longest waiter."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: collections.deque[threading.Event] = collections.deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._guard:
            if not self._held:
                self._held = True
                return True
            mine = threading.Event()
            self._waiting.append(mine)
        if mine.wait(timeout):
            return True
        with self._guard:
            if mine in self._waiting:  # still queued: give up
                self._waiting.remove(mine)
                return False
        return True  # handed over between the timeout and the guard

    def release(self) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().set()  # the turn passes on; the lock stays held
            else:
                self._held = False


WRITERS = Turns()
WRITE_MODES = {"IMMEDIATE", "EXCLUSIVE"}


class DatabaseWrapper(base.DatabaseWrapper):
    has_turn = False

    def _start_transaction_under_autocommit(self) -> None:
        if self.transaction_mode in WRITE_MODES and not self.has_turn and not self.is_in_memory_db():
            if not WRITERS.acquire(timeout=float(self.settings_dict["OPTIONS"].get("timeout", 5))):
                raise OperationalError("database is locked (this process's other writers kept it)")
            self.has_turn = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._end_turn()
            raise

    def _end_turn(self) -> None:
        if self.has_turn:
            self.has_turn = False
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
            super()._close()
        finally:
            self._end_turn()
