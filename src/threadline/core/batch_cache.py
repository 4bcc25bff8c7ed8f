"""Configuration read once per batch transaction, not once per job and subscriber.

The worker runs a batch of jobs (inbound payloads, the events they publish and their subscribers) in one
transaction (ADR 0004). Inside it, each subscriber used to read the same configuration again for every
event: the workspace's webhook subscriptions, event automations, SLA policies, routing rules. `cached`
keeps such a read for the rest of the batch transaction (`scope`, opened by the worker); outside a batch it
simply reads. A batch lasts about 50 ms and sees one snapshot of the database anyway (SQLite) or a change
committed by another process in the middle of it (PostgreSQL), which is no different from that change
arriving just after the batch. Only configuration that the batch itself does not change belongs here, and
callers must treat what they get as read-only.

`remember`/`recall` hand a fact from the job that wrote it to a subscriber of the same batch that would
otherwise read it back (the creation time of the message behind a `message.received` event). Such a key
must name something written once and never changed (an outbox row's id), and the writer must remember it
every time it writes, so that an id reused after a savepoint's rollback (SQLite) is overwritten, not stale.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterator
from typing import TypeVar

T = TypeVar("T")
_local = threading.local()


@contextlib.contextmanager
def scope() -> Iterator[None]:
    """Keep `cached` reads until the block ends (the worker's batch transaction)."""
    outer = getattr(_local, "values", None)
    _local.values = {} if outer is None else outer
    try:
        yield
    finally:
        _local.values = outer


def cached(key: Hashable, load: Callable[[], T]) -> T:
    """`load()` once per batch scope for `key` (a tuple naming the read and its workspace); `load()` outside."""
    values: dict[Hashable, object] | None = getattr(_local, "values", None)
    if values is None:
        return load()
    if key not in values:
        values[key] = load()
    return values[key]  # type: ignore[return-value]


def remember(key: Hashable, value: object) -> None:
    """Keep `value` for `recall(key)` until the batch scope ends; nothing outside a batch."""
    values: dict[Hashable, object] | None = getattr(_local, "values", None)
    if values is not None:
        values[key] = value


def forget(key: Hashable) -> None:
    """Drop what `remember(key, …)` kept, if anything."""
    values: dict[Hashable, object] | None = getattr(_local, "values", None)
    if values is not None:
        values.pop(key, None)


def recall(key: Hashable) -> object | None:
    """What `remember(key, …)` kept in this batch scope, else None (the caller reads it from the database)."""
    values: dict[Hashable, object] | None = getattr(_local, "values", None)
    return None if values is None else values.get(key)
