"""`serve` on SQLite hands a request's closed connection to the next request instead of opening one (opening one
with its PRAGMAs cost 3-4 ms of a 10 ms contact lookup at load 13, docs/performance.md); one closed inside a
transaction is closed for real, and nothing is kept unless `keep_connections` asked for it."""

from __future__ import annotations

import threading

import pytest
from django.db.utils import ConnectionHandler

from threadline.core.sqlite import base


@pytest.fixture(autouse=True)
def _files_of_their_own(django_db_blocker):
    """Database files of the tests' own, not the test database; nothing kept afterwards."""
    with django_db_blocker.unblock():
        yield
    base.keep_connections(0)
    base.IDLE.close_all()


def handler_for(path) -> ConnectionHandler:
    return ConnectionHandler({"default": {
        "ENGINE": "threadline.core.sqlite", "NAME": str(path),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL"},
    }})


def raw_connection_of(handler: ConnectionHandler) -> object:
    connection = handler["default"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.connection


def test_a_closed_connection_serves_the_next_request_in_another_thread(tmp_path):
    base.keep_connections(2)
    try:
        first = handler_for(tmp_path / "idle.sqlite3")
        raw = raw_connection_of(first)
        first["default"].close()
        seen: list[object] = []
        thread = threading.Thread(target=lambda: seen.append(raw_connection_of(handler_for(tmp_path / "idle.sqlite3"))))
        thread.start()
        thread.join()
        assert seen == [raw]  # the same sqlite3 connection, not a new one
        other = raw_connection_of(handler_for(tmp_path / "other.sqlite3"))
        assert other is not raw  # kept per database file
    finally:
        base.keep_connections(0)
        base.IDLE.close_all()


def test_a_connection_closed_in_a_transaction_or_without_keeping_is_closed(tmp_path):
    handler = handler_for(tmp_path / "idle.sqlite3")
    raw = raw_connection_of(handler)
    handler["default"].close()
    assert raw_connection_of(handler) is not raw  # keeping is off by default

    base.keep_connections(2)
    try:
        connection = handler["default"]
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE t (x)")
        raw = connection.connection
        connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (1)")
        assert raw.in_transaction
        connection._close()  # noqa: SLF001 - what close() does outside an atomic block
        assert base.IDLE.take(str(tmp_path / "idle.sqlite3")) is None  # not handed on with its writes pending
    finally:
        base.keep_connections(0)
        base.IDLE.close_all()
