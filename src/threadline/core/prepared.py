"""Prepared queries: a query of fixed shape compiled once per thread's connection, then run with new values.

On the worker's hot path (issue 11) Django spends 0.3–1.2 ms of Python building and compiling a query
(`filter`, `select_related`, the compiler resolving each column) against ~0.02 ms for SQLite to answer it.
`Prepared(build)` calls `build` once with marker values, compiles the queryset with Django's own compiler,
and keeps the SQL, where the markers landed among its parameters, and what turns a row into a model instance
(Django's converters and related populators). Each call then binds the real values and runs the SQL through
the connection's cursor (counted, logged and wrapped like any other query): same SQL, same rows, same
instances as the queryset would give, without building it again.

Only `int`, `str` and aware `datetime` values may vary (primary and foreign keys, states, names, a moment
compared with a DateTimeField: bound as the backend adapts it, a string on SQLite). An int the backend wraps
(psycopg's `Int8` for an expression's output field on PostgreSQL) is bound wrapped the same way. Whatever
changes the shape of the SQL (None becomes IS NULL, a list becomes IN (...), a boolean, a LIMIT) must be fixed
inside `build`; a call with another kind of value (None) simply runs the queryset `build` returns, unprepared.
`sql(*values)` gives the SQL and its bound parameters without running them, to be part of a larger statement.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.transaction import TransactionManagementError

T = TypeVar("T")
_local = threading.local()
_INT_MARKER = 7_310_000_000_000_000  # + the value's position: no real key or constant comes near it
_STR_MARKER = "\u27e6prepared-{}\u27e7"
_DATETIME_MARKER = dt.datetime(1901, 2, 3, 4, 5, 6, tzinfo=dt.UTC)  # + the position + 1 in microseconds


@dataclass
class _Compiled:
    connection: Any  # the thread's DatabaseWrapper it was compiled for (converters are bound to it)
    alias: str
    sql: str
    params: tuple[Any, ...]
    # (position among params, position among the call's values, what the value becomes there or None: as is)
    slots: tuple[tuple[int, int, Callable[[Any], Any] | None], ...]
    kind: str  # "model", "flat", "tuple" or "exists"
    for_update: bool
    col_count: int
    converters: list[tuple[int, tuple[list[Any], Any]]]
    model: Any = None
    init_list: list[str] | None = None
    model_slice: slice | None = None
    populators: list[Any] | None = None
    annotations: dict[str, int] | None = None


def _marker(position: int, value: object) -> int | str | dt.datetime | None:
    if type(value) is int:
        return _INT_MARKER + position
    if type(value) is str:
        return _STR_MARKER.format(position)
    if type(value) is dt.datetime and value.tzinfo is not None:
        return _DATETIME_MARKER + dt.timedelta(microseconds=position + 1)
    return None  # None, a boolean, a list ... : changes the SQL, so the call runs unprepared


def _slot(param: object, marker: object, connection: Any) -> tuple[bool, Callable[[Any], Any] | None]:
    """Whether `param` is where `marker` landed, and what a value becomes there (None: itself)."""
    if type(marker) is int:
        if isinstance(param, int) and not isinstance(param, bool) and param == marker:
            return True, (None if type(param) is int else type(param))  # psycopg's Int8(…) wrapper
        return False, None
    if type(marker) is dt.datetime:
        adapt = connection.ops.adapt_datetimefield_value
        adapted = adapt(marker)
        return (type(param) is type(adapted) and param == adapted), adapt
    return (type(param) is type(marker) and param == marker), None


class Prepared(Generic[T]):
    """`build(*values)` returns the queryset; `one`, `first`, `all` and `exists` (with the values) run it."""

    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        self.build = build
        self.key = object()  # this query's entries in the thread's cache

    def one(self, *values: object) -> T | None:
        """The first row (no ORDER BY: the filter names one row, `core.rows.one`), or None."""
        rows = self._run("one", values)
        if rows is None:
            rows = list(self.build(*values).order_by()[:1])
        return rows[0] if rows else None

    def first(self, *values: object) -> T | None:
        """The first row in the queryset's order (by primary key when it has none), as `.first()`."""
        rows = self._run("first", values)
        if rows is None:
            return self.build(*values).first()
        return rows[0] if rows else None

    def all(self, *values: object) -> list[T]:
        rows = self._run("all", values)
        return list(self.build(*values)) if rows is None else rows

    def exists(self, *values: object) -> bool:
        rows = self._run("exists", values)
        return self.build(*values).exists() if rows is None else bool(rows)

    def sql(self, *values: object) -> tuple[str, list[Any]]:
        """The SQL of all rows and its parameters with `values` bound (as the queryset would compile them)."""
        compiled = self._compiled("all", values)
        if compiled is None:
            sql, params = self.build(*values).query.sql_with_params()
            return sql, list(params)
        return compiled.sql, _bind(compiled, values)

    def _run(self, method: str, values: tuple[object, ...]) -> list[Any] | None:
        compiled = self._compiled(method, values)
        return None if compiled is None else _execute(compiled, values)

    def _compiled(self, method: str, values: tuple[object, ...]) -> _Compiled | None:
        markers = tuple(_marker(position, value) for position, value in enumerate(values))
        if None in markers:
            return None
        cache: dict[Any, _Compiled] = _local.__dict__.setdefault("compiled", {})
        key = (self.key, method, tuple(type(value) for value in values))
        compiled = cache.get(key)
        if compiled is None or connections[compiled.alias] is not compiled.connection:
            compiled = cache[key] = self._compile(method, markers)
        return compiled

    def _compile(self, method: str, markers: tuple[int | str | None, ...]) -> _Compiled:
        queryset = self.build(*markers)
        if queryset._prefetch_related_lookups or queryset._known_related_objects:  # noqa: SLF001
            raise ValueError("a prepared query cannot prefetch or come from a related manager")
        alias = queryset.db
        connection = connections[alias]
        iterable = queryset._iterable_class  # noqa: SLF001
        if method == "one":
            queryset = queryset.order_by()[:1]
        elif method == "first":
            queryset = (queryset if queryset.ordered else queryset.order_by("pk"))[:1]
        query = queryset.query.exists() if method == "exists" else queryset.query
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = tuple((index, position, convert) for position, marker in enumerate(markers)
                      for index, param in enumerate(params)
                      for found, convert in [_slot(param, marker, connection)] if found)
        missing = set(range(len(markers))) - {position for _index, position, _convert in slots}
        if missing:
            raise ValueError(f"values {sorted(missing)} are not plain parameters of the prepared query: {sql}")
        fields = [column[0] for column in compiler.select[:compiler.col_count]]
        if method == "exists":
            kind = "exists"
        elif iterable is ModelIterable:
            kind = "model"
        elif iterable is FlatValuesListIterable:
            kind = "flat"
        elif iterable is ValuesListIterable:
            kind = "tuple"
        else:
            raise ValueError(f"a prepared query cannot return {iterable.__name__} rows")
        compiled = _Compiled(connection=connection, alias=alias, sql=sql, params=tuple(params), slots=slots, kind=kind,
                             for_update=bool(query.select_for_update and connection.features.has_select_for_update
                                             and connection.features.supports_transactions),
                             col_count=compiler.col_count,
                             converters=list(compiler.get_converters(fields).items()))
        if kind == "model":
            select, klass_info = compiler.select, compiler.klass_info
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            compiled.model = klass_info["model"]
            compiled.init_list = [column[0].target.attname for column in select[start:end]]
            compiled.model_slice = slice(start, end)
            compiled.populators = get_related_populators(klass_info, select, alias)
            compiled.annotations = dict(compiler.annotation_col_map or {})
        return compiled


def _execute(compiled: _Compiled, values: tuple[object, ...]) -> list[Any]:
    connection = compiled.connection
    if compiled.for_update and connection.get_autocommit():  # as Django's compiler checks it
        raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, _bind(compiled, values))
        rows = cursor.fetchall()
    if compiled.kind == "exists":
        return rows
    if compiled.converters:
        rows = [_convert(list(row), compiled.converters, connection) for row in rows]
    if compiled.kind == "flat":
        return [row[0] for row in rows]
    if compiled.kind == "tuple":
        return [tuple(row[:compiled.col_count]) for row in rows]
    instances = []
    for row in rows:
        instance = compiled.model.from_db(compiled.alias, compiled.init_list, row[compiled.model_slice])
        for populator in compiled.populators or ():
            populator.populate(row, instance)
        for name, column in (compiled.annotations or {}).items():
            setattr(instance, name, row[column])
        instances.append(instance)
    return instances


def _bind(compiled: _Compiled, values: tuple[object, ...]) -> list[Any]:
    params = list(compiled.params)
    for index, position, convert in compiled.slots:
        params[index] = values[position] if convert is None else convert(values[position])
    return params


def _convert(row: list[Any], converters: list[tuple[int, tuple[list[Any], Any]]], connection: Any) -> list[Any]:
    for position, (functions, expression) in converters:
        value = row[position]
        for function in functions:
            value = function(value, expression, connection)
        row[position] = value
    return row
