"""The intake (ADR 0008): on a SQLite file database, acknowledged payloads wait in a file of their own.

An edge's acknowledgement needs SQLite's one write lock today, which the worker holds for each of its
transactions, so one of them always waits. With the intake, `accept_inbound` writes the payload to
`<database>-intake`, a second SQLite file (WAL, `synchronous=NORMAL`: the main database's durability), and a
worker moves the rows into `InboundEvent` and their processing jobs before each claim (`move`), in one
transaction of the database, and deletes them from the intake after its commit. An acknowledgement then waits
only for other acknowledgements.

- The event's id is known at the acknowledgement: each process takes blocks of ids from the main database's
  `sqlite_sequence` (`InboundEvent`'s AUTOINCREMENT), and the move inserts the event with its id. An id still
  in the intake is read as a "received" event (`queued`).
- Exactly once: a crash before the move's commit leaves the rows in the intake; a crash between the commit
  and the delete moves them again, where the event's id (its primary key) and its unique key drop the copy.
- A row whose channel is gone is dropped with a warning, as deleting a channel deletes its events.
- The intake holds a token of its database (`PRAGMA application_id`), so an intake left by another database
  (a database restored or recreated beside it) is never moved into this one: it is set aside, kept, logged.

While the worker is behind by more than PACE_AFTER, acknowledgements wait a little (`_pace`): acceptance then
follows the processing rate, so a burst is not accepted whole first and stored long after.

Used when `settings.THREADLINE["INTAKE"]` is on (`serve` turns it on when its web process runs no worker
thread: with the worker process, its default on 2 or more CPUs, ADR 0006, or on a web-only node; anywhere
else it stays off unless set) and outside a caller's transaction; a worker always moves what is there. A
row the database refuses for another reason than a key seen (a disk full, a lock held too long) stays in
the intake, and the worker tries again at its next claim.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from threadline.core import metrics
from threadline.core.time import now

logger = logging.getLogger(__name__)

BLOCK = 1000  # ids reserved in the main database per write there
# Pacing: while the oldest inbound job waiting to be processed is due longer than PACE_AFTER seconds, an
# acknowledgement waits (PACE_STEP at a time, PACE_MOST at most, then it is taken anyway), so a burst is
# accepted about as fast as it is processed and stored within seconds, instead of all accepted first.
PACE_AFTER = 1.0
PACE_STEP = 0.02
PACE_MOST = 2.0
_clock, _sleep = time.monotonic, time.sleep  # (tests step them)
MOVE_LIMIT = 256  # rows moved per transaction of the database
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS intake (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id INTEGER NOT NULL UNIQUE, "
    "channel_id INTEGER NOT NULL, workspace_id INTEGER NOT NULL, key TEXT NOT NULL, body BLOB NOT NULL, "
    "headers TEXT NOT NULL, received_at REAL NOT NULL, UNIQUE (channel_id, key))",
)
COLUMNS = "seq, event_id, channel_id, workspace_id, key, body, headers, received_at"
_local = threading.local()
_ids_lock = threading.Lock()
_opening = threading.Lock()  # one thread at a time checks the intake's database token
_ids: list[int] = [0, 0]  # this process's block: next id, end (exclusive)
_ids_pid = [0]


@dataclass(frozen=True)
class Row:
    seq: int
    event_id: int
    channel_id: int
    workspace_id: int
    key: str
    body: bytes
    headers: dict[str, Any]
    received_at: dt.datetime


def database_path() -> str | None:
    """The main database's file, or None when it is not a SQLite file (PostgreSQL, in memory)."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or "mode=memory" in name:
        return None
    return name


def path() -> Path | None:
    database = database_path()
    return Path(f"{database}-intake") if database else None


def accepting() -> bool:
    """Whether `accept_inbound` writes to the intake: on, a SQLite file database, outside a transaction."""
    return bool(settings.THREADLINE.get("INTAKE")) and not connection.in_atomic_block and path() is not None


# ── the files ──────────────────────────────────────────────────────────────────────────────────────────
def _open(file: Path) -> sqlite3.Connection:
    db = sqlite3.connect(file, timeout=20, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA secure_delete=ON")  # a moved payload's bytes do not stay in the file's free pages
    db.execute("PRAGMA journal_size_limit=4194304")
    for statement in SCHEMA:
        db.execute(statement)
    return db


def _token(database: str, *, create: bool) -> str:
    """The main database's token (its header's application id, set once at random when an intake is first
    made for it: only an acknowledgement creates one, outside any transaction), which the intake keeps."""
    main = sqlite3.connect(database, timeout=20, isolation_level=None)
    try:
        token = main.execute("PRAGMA application_id").fetchone()[0]
        if not token and create:  # under the write lock: two processes (or threads) set one token
            main.execute("BEGIN IMMEDIATE")
            token = main.execute("PRAGMA application_id").fetchone()[0]
            if not token:
                main.execute(f"PRAGMA application_id = {secrets.randbelow(2**31 - 2) + 1}")
                token = main.execute("PRAGMA application_id").fetchone()[0]
            main.execute("COMMIT")
    finally:
        main.close()
    return str(token)


def _connection(*, create: bool = False) -> sqlite3.Connection | None:
    """This thread's connection to the intake of the current database: None without one (or, with `create`,
    a new one)."""
    file = path()
    if file is None:
        return None
    cached = getattr(_local, "db", None)
    if cached is not None and cached[0] == file and cached[1] == os.getpid():
        return cached[2]
    if not create and not file.exists():
        return None
    with _opening:
        db = _open_checked(file, create=create)
    if db is not None:
        _local.db = (file, os.getpid(), db)
    return db


def _open_checked(file: Path, *, create: bool) -> sqlite3.Connection | None:
    database = str(connection.settings_dict["NAME"])
    token = _token(database, create=create)
    db = _open(file)
    if create:
        db.execute("INSERT OR IGNORE INTO meta(name, value) VALUES ('database', ?)", [token])
    kept = db.execute("SELECT value FROM meta WHERE name = 'database'").fetchone()
    if kept is not None and kept[0] != token:  # another database's intake: never moved into this one
        db.close()
        aside = file.with_name(f"{file.name}.other-database-{int(time.time())}")
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{file}{suffix}").exists():
                os.replace(f"{file}{suffix}", f"{aside}{suffix}")
        logger.error("the intake %s belongs to another database; set aside as %s", file, aside)
        if not create:
            return None
        db = _open(file)
        db.execute("INSERT OR IGNORE INTO meta(name, value) VALUES ('database', ?)", [token])
    return db


def close() -> None:
    """Close this thread's connection (tests that remove the files)."""
    cached = getattr(_local, "db", None)
    if cached is not None:
        cached[2].close()
        _local.db = None


# ── acknowledge ────────────────────────────────────────────────────────────────────────────────────────
def _reserve() -> tuple[int, int]:
    """A block of BLOCK event ids nobody else will use: the main database's sequence moved past them."""
    from threadline.channels.models import InboundEvent

    table = InboundEvent._meta.db_table
    main = sqlite3.connect(str(connection.settings_dict["NAME"]), timeout=20, isolation_level=None)
    try:
        main.execute("BEGIN IMMEDIATE")
        row = main.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", [table]).fetchone()
        top = max(row[0] if row else 0, main.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"').fetchone()[0])
        if row:
            main.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", [top + BLOCK, table])
        else:
            main.execute("INSERT INTO sqlite_sequence(name, seq) VALUES (?, ?)", [table, top + BLOCK])
        main.execute("COMMIT")
    finally:
        main.close()
    return top + 1, top + BLOCK + 1


def next_event_id() -> int:
    with _ids_lock:
        if _ids_pid[0] != os.getpid() or _ids[0] >= _ids[1]:
            _ids[0], _ids[1] = _reserve()
            _ids_pid[0] = os.getpid()
        _ids[0] += 1
        return _ids[0] - 1


def accept(channel: Any, key: str, body: bytes, headers: dict[str, Any]) -> tuple[Any, bool]:
    """`accept_inbound` through the intake: (the event, True) when new, (the stored one, False) for a key seen."""
    from threadline.channels.models import InboundEvent
    from threadline.jobs.registry import WAKE

    moved = InboundEvent.objects.filter(channel=channel, idempotency_key=key).first()  # WAL: never waits
    if moved is not None:
        return moved, False
    _pace()
    db = _connection(create=True)
    assert db is not None  # noqa: S101 - `accepting()` said so
    event_id, moment = next_event_id(), now()
    try:
        db.execute(f"INSERT INTO intake({COLUMNS.split(', ', 1)[1]}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [event_id, channel.pk, channel.workspace_id, key, body, json.dumps(headers), moment.timestamp()])
    except sqlite3.IntegrityError:  # a retry of a payload still waiting here
        row = db.execute(f"SELECT {COLUMNS} FROM intake WHERE channel_id = ? AND key = ?", [channel.pk, key]).fetchone()
        if row is None:  # moved meanwhile
            return InboundEvent.objects.filter(channel=channel, idempotency_key=key).first(), False
        return as_event(_row(row), channel), False
    WAKE.set()
    return as_event(Row(0, event_id, channel.pk, channel.workspace_id, key, body, headers, moment), channel), True


_backlog = {"checked": 0.0, "age": 0.0}
_backlog_lock = threading.Lock()


def backlog_age() -> float:
    """Seconds the oldest inbound job waiting to be processed has been due (read at most every PACE_STEP per
    process: the concurrent acknowledgements share one read; under WAL a read never waits for a writer)."""
    from threadline.channels.inbound import process_inbound_event_task
    from threadline.jobs.models import Job

    with _backlog_lock:
        moment = _clock()
        if moment - _backlog["checked"] >= PACE_STEP:
            due = now()
            oldest = (Job.objects.filter(state=Job.State.QUEUED, task=process_inbound_event_task.name,
                                         run_after__lte=due).order_by("run_after")
                      .values_list("run_after", flat=True).first())
            _backlog["checked"], _backlog["age"] = moment, (due - oldest).total_seconds() if oldest else 0.0
        return _backlog["age"]


def _pace() -> None:
    """Wait while the worker is behind by more than PACE_AFTER, at most PACE_MOST."""
    deadline = _clock() + PACE_MOST
    while backlog_age() > PACE_AFTER and _clock() < deadline:
        _sleep(PACE_STEP)


def _row(values: tuple[Any, ...]) -> Row:
    seq, event_id, channel_id, workspace_id, key, body, headers, received = values
    return Row(seq, event_id, channel_id, workspace_id, key, bytes(body), json.loads(headers),
               dt.datetime.fromtimestamp(received, tz=dt.UTC))


def as_event(row: Row, channel: Any = None) -> Any:
    """The unsaved `InboundEvent` a row becomes (state "received"): what the edge answers and an API read shows."""
    from threadline.channels.models import InboundEvent

    event = InboundEvent(pk=row.event_id, workspace_id=row.workspace_id, channel_id=row.channel_id,
                         idempotency_key=row.key, body=row.body, headers=row.headers,
                         created_at=row.received_at, updated_at=row.received_at)
    if channel is not None:
        event.channel = channel
    return event


def queued(workspace_id: int, event_id: int) -> Any:
    """The event `event_id` of the workspace while it waits in the intake, else None."""
    from threadline.channels.models import Channel

    db = _connection()
    if db is None:
        return None
    found = db.execute(f"SELECT {COLUMNS} FROM intake WHERE event_id = ? AND workspace_id = ?",
                       [event_id, workspace_id]).fetchone()
    if found is None:
        return None
    row = _row(found)
    channel = Channel.objects.filter(pk=row.channel_id).first()
    return as_event(row, channel) if channel is not None else None


# ── move ───────────────────────────────────────────────────────────────────────────────────────────────
def move(limit: int = MOVE_LIMIT) -> int:
    """Move up to `limit` rows, oldest first, into the database (events, jobs, the channels' last-event mark)
    in one transaction, then delete them here; how many rows left the intake. The caller holds the worker's
    turn (`jobs.worker`)."""
    db = _connection()
    if db is None:
        return 0
    rows = [_row(r) for r in db.execute(f"SELECT {COLUMNS} FROM intake ORDER BY seq LIMIT ?", [limit]).fetchall()]
    if not rows:
        return 0
    from threadline.channels.actions import note_event_received
    from threadline.channels.inbound import store_moved
    from threadline.channels.models import Channel
    from threadline.core.sqlite.base import background

    channels = Channel.objects.in_bulk({row.channel_id for row in rows})
    gone = [row for row in rows if row.channel_id not in channels]
    with background(ahead=True), transaction.atomic():
        for row in rows:
            if row.channel_id not in channels:
                continue
            try:
                with transaction.atomic():
                    store_moved(channels[row.channel_id], row)
            except IntegrityError:  # moved already (a crash after the commit), or the key was seen meanwhile
                logger.info("intake row %s (event %s) was moved already", row.seq, row.event_id)
        for channel in channels.values():
            note_event_received(channel)
    db.execute(f"DELETE FROM intake WHERE seq IN ({','.join('?' * len(rows))})", [row.seq for row in rows])
    if gone:
        logger.warning("intake: %d payloads of deleted channels dropped (events %s)", len(gone),
                       [row.event_id for row in gone])
    return len(rows)


def depth() -> tuple[int, float]:
    """Rows waiting and the age in seconds of the oldest (0, 0.0 without an intake)."""
    db = _connection()
    if db is None:
        return 0, 0.0
    count, oldest = db.execute("SELECT COUNT(*), MIN(received_at) FROM intake").fetchone()
    age = max(0.0, now().timestamp() - oldest) if oldest is not None else 0.0
    metrics.QUEUE_DEPTH.labels("intake").set(count)
    metrics.INTAKE_AGE.set(age)
    return count, age


def depths() -> dict[str, int]:
    """`jobs.scheduler.refresh_queue_depth`'s source: the rows waiting."""
    return {"intake": depth()[0]}


def forget_deleted() -> None:
    """After an erasure: the intake's WAL truncated (its pages hold deleted payloads' bytes until then)."""
    db = _connection()
    if db is not None:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
