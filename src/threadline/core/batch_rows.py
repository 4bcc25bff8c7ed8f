"""Rows a batch job wrote, handed to the subscribers that run in its savepoint instead of read back.

An inbound message's job locks and writes its conversation, then the subscribers of the events it published
run in the same savepoint (ADR 0005): SLA and routing each read the conversation back, locked (issue 11,
sixth pass). `keep(instance)` (the writer, after its write) keeps a copy of the row's values; `fresh(model,
pk)` gives each reader a new instance built from that copy (mutable values copied, so what one reader
changes in memory never reaches another), or None, and the reader reads the row as before. `keep_all(model,
column, value, instances)` says "these are all its rows with that column's value" (a new contact's one
identity), `fresh_all` answers them likewise. `note(key, *models)`/`noted(key)`: a fact that holds until one
of those tables is written (a contact's search document stored from rows nobody changed since).

The copy stays right as long as nobody else writes the row: the writer's transaction holds the row's lock (it
wrote it), and `scope` (the worker, around one batch job and its followers) watches every statement this
connection runs: any write naming a kept row's table (quoted, as Django writes it) drops that table's rows,
any ROLLBACK (a savepoint undone) drops them all. Outside a scope `keep` does nothing and `fresh` answers None.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)
_local = threading.local()
_READS = ("SELECT", "SAVEPOINT", "RELEASE")


class _Kept:
    __slots__ = ("related", "tables", "values")

    def __init__(self, values: list[list[Any]], related: dict[str, Model], tables: tuple[str, ...]) -> None:
        self.values, self.related = values, related  # one list of concrete field values per row
        self.tables = tables  # a write to any of these drops it


@contextlib.contextmanager
def scope() -> Iterator[None]:
    """Keep rows until the block ends, and forget them as soon as this connection writes their table."""
    outer = getattr(_local, "rows", None)
    rows: dict[tuple[Any, ...], _Kept] = {}
    _local.rows = rows

    def watch(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if rows and not (isinstance(sql, str) and sql.startswith(_READS)):
            if not isinstance(sql, str) or sql.startswith("ROLLBACK"):  # composed SQL: whatever it writes
                rows.clear()
            else:
                for key in [key for key, kept in rows.items() if any(table in sql for table in kept.tables)]:
                    del rows[key]
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(watch):
            yield
    finally:
        _local.rows = outer


def _copy(value: Any) -> Any:
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


def keep(instance: Model, **related: Model) -> None:
    """Keep `instance`'s row as written (call it after the write), with related objects that a reader gets
    as if selected with it (`conversation=…`: shared, rows a reader only reads, such as its channel)."""
    rows: dict[tuple[Any, ...], _Kept] | None = getattr(_local, "rows", None)
    if rows is None:
        return
    table = _table(type(instance))
    rows[(table, instance.pk)] = _Kept([_values(instance)], related, (table,))


def before_update(instance: Model) -> _Kept | None:
    """What is kept of `instance`'s row, taken by a writer about to UPDATE it (`row_writes.update_columns`),
    which drops it; `after_update` keeps it again with the columns written."""
    rows: dict[tuple[Any, ...], _Kept] | None = getattr(_local, "rows", None)
    return rows.get((_table(type(instance)), instance.pk)) if rows else None


def after_update(instance: Model, kept: _Kept | None, fields: list[Any]) -> None:
    """Keep the row `before_update` found again, with `instance`'s values of the `fields` just written: it held
    the row as it was before this UPDATE (a write to its table would have dropped it), and the UPDATE wrote
    exactly these columns. So a subscriber that writes one column (the language, the SLA summary) no longer
    makes the next one read the whole row back. Related objects kept with it stay, but for the foreign keys
    written."""
    rows: dict[tuple[Any, ...], _Kept] | None = getattr(_local, "rows", None)
    if kept is None or rows is None:
        return
    concrete = instance._meta.concrete_fields  # noqa: SLF001 - the order of `_values`
    values = list(kept.values[0])
    for field in fields:
        values[concrete.index(field)] = _copy(getattr(instance, field.attname))
    written = {field.name for field in fields}
    related = {name: value for name, value in kept.related.items() if name not in written}
    rows[(_table(type(instance)), instance.pk)] = _Kept([values], related, kept.tables)


def keep_all(model: type[Model], column: str, value: Any, instances: list[Model]) -> None:
    """Keep `instances` as every row of `model` whose `column` holds `value` (after writing them)."""
    rows: dict[tuple[Any, ...], _Kept] | None = getattr(_local, "rows", None)
    if rows is not None:
        table = _table(model)
        rows[(table, (column, value))] = _Kept([_values(instance) for instance in instances], {}, (table,))


def fresh_all(model: type[M], column: str, value: Any) -> list[M] | None:
    """New instances of what `keep_all` kept for this column's value, or None (read them)."""
    rows: dict[tuple[Any, ...], _Kept] | None = getattr(_local, "rows", None)
    kept = rows.get((_table(model), (column, value))) if rows else None
    if kept is None:
        return None
    return [model.from_db(connection.alias, None, [_copy(value) for value in values]) for values in kept.values]


def note(key: tuple[Any, ...], *models: type[Model]) -> None:
    """Note that something holds (`key`, a tuple naming it) until this connection writes any of `models`."""
    rows: dict[tuple[Any, ...], _Kept] | None = getattr(_local, "rows", None)
    if rows is not None:
        rows[("note", key)] = _Kept([], {}, tuple(_table(model) for model in models))


def noted(key: tuple[Any, ...]) -> bool:
    """Whether `note(key, …)` was called in this scope and none of its tables was written since."""
    rows: dict[tuple[Any, ...], _Kept] | None = getattr(_local, "rows", None)
    return rows is not None and ("note", key) in rows


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)  # noqa: SLF001


def _values(instance: Model) -> list[Any]:
    return [_copy(getattr(instance, field.attname)) for field in instance._meta.concrete_fields]  # noqa: SLF001


def fresh(model: type[M], pk: Any, related: tuple[str, ...] = ()) -> M | None:
    """A new instance of the kept row of `model` with this primary key, or None (read it). With `related`
    (foreign keys a reader would select with it), None too unless each is kept or empty."""
    rows: dict[tuple[Any, ...], _Kept] | None = getattr(_local, "rows", None)
    kept = rows.get((_table(model), pk)) if rows else None
    if kept is None:
        return None
    instance = model.from_db(connection.alias, None, [_copy(value) for value in kept.values[0]])
    for name in related:
        if name not in kept.related and getattr(instance, f"{name}_id") is not None:
            return None
    instance._state.fields_cache.update(kept.related)  # noqa: SLF001
    return instance
