"""`insert` and `save_fields`: `Model.objects.create()` and `instance.save(update_fields=…)` for the worker's
hot path, with the statement's SQL compiled once per model, columns and thread's connection (issue 11).

Django builds an InsertQuery or UpdateQuery and compiles it for every row written, which costs several times
what SQLite spends on the statement. These helpers ask Django's own compiler for the SQL once, then compute
each row's parameters as `save()` does (each field's `pre_save`, so `auto_now` columns are stamped, then
`get_db_prep_save`) and run the same statement through the connection's cursor. The instance ends as `save()`
leaves it (primary key set, `_state` saved). Anything unusual (a model with parents or save signals, a
database default or an expression among the values, an overridden `save`) simply goes through `save()`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import DatabaseError, connections, router, transaction
from django.db.models import Model, signals
from django.db.models.sql.subqueries import InsertQuery

from threadline.core import batch_rows

M = TypeVar("M", bound=Model)
_local = threading.local()


def _plain(model: type[Model], *, auto: bool = True) -> bool:
    """No parents, no save signals, Django's own `save` (and an auto primary key when `auto`): what `save()`
    does is what these helpers do."""
    meta = model._meta
    return (not meta.parents and (meta.auto_field is not None or not auto) and model.save is Model.save
            and not signals.pre_save.has_listeners(model) and not signals.post_save.has_listeners(model))


def _cache(connection: Any) -> dict[Any, Any]:
    """The thread's compiled statements for `connection` (a new connection wrapper starts afresh)."""
    if getattr(_local, "connection", None) is not connection:
        _local.connection, _local.compiled = connection, {}
    return _local.compiled


def _values(instance: Model, fields: Sequence[Any], connection: Any, add: bool) -> list[Any] | None:
    values = []
    for field in fields:
        value = field.pre_save(instance, add)
        if hasattr(value, "resolve_expression"):  # F(), a database default ...: Django's own path
            return None
        values.append(field.get_db_prep_save(value, connection=connection))
    return values


def insert(instance: M) -> M:
    """Save a new instance (auto primary key unset) as `instance.save(force_insert=True)` would; returns it."""
    model = type(instance)
    alias = router.db_for_write(model, instance=instance)
    connection = connections[alias]
    if not (_plain(model) and instance._state.adding and instance.pk is None
            and connection.features.can_return_columns_from_insert):
        instance.save(force_insert=True, using=alias)
        return instance
    instance._prepare_related_fields_for_save(operation_name="save")
    meta = model._meta
    fields = [field for field in meta.local_concrete_fields if not field.generated and field is not meta.auto_field]
    cache = _cache(connection)
    compiled = cache.get(("insert", model))
    if compiled is None:  # (before the values: compiling stamps auto_now columns on the instance)
        query = InsertQuery(model)
        query.insert_values(fields, [instance])
        compiler = query.get_compiler(using=alias)
        compiler.returning_fields = returning = meta.db_returning_fields
        ((sql, _params),) = compiler.as_sql()
        columns = [field.get_col(meta.db_table) for field in returning]
        compiled = cache[("insert", model)] = (sql, compiler.returning_params, returning,
                                               list(compiler.get_converters(columns).items()))
    values = _values(instance, fields, connection, True)
    if values is None:
        instance.save(force_insert=True, using=alias)
        return instance
    sql, returning_params, returning, converters = compiled
    with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:  # as save() does
        cursor.execute(sql, values)
        row = list(connection.ops.fetch_returned_insert_columns(cursor, returning_params))
    for position, (functions, expression) in converters:
        for function in functions:
            row[position] = function(row[position], expression, connection)
    for value, field in zip(row, returning, strict=True):
        setattr(instance, field.attname, value)
    instance._state.db, instance._state.adding = alias, False
    return instance


def create(model: type[M], **fields: Any) -> M:
    """`model.objects.create(**fields)` through `insert`."""
    return insert(model(**fields))


def insert_rows(objs: Sequence[Model], *, conflicts: str = "", unique_fields: Sequence[str] = (),
                update_fields: Sequence[str] = ()) -> None:
    """`Model.objects.bulk_create(objs, ignore_conflicts=…)` or its upsert (`conflicts="update"` with
    `unique_fields` and `update_fields`) in one statement, for new rows whose primary keys nobody reads after
    (they are not set: no RETURNING)."""
    if not objs:
        return
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    meta = model._meta
    with_pk = objs[0].pk is not None  # all given (a natural key), or none (an auto field): as bulk_create splits
    fields = [field for field in meta.concrete_fields if not field.generated and (with_pk or field is not meta.pk)]
    ignore, upsert = conflicts == "ignore", conflicts == "update"
    kwargs: dict[str, Any] = {"ignore_conflicts": ignore}
    if upsert:
        kwargs.update(update_conflicts=True, unique_fields=list(unique_fields), update_fields=list(update_fields))
    if (not _plain(model, auto=False) or (not with_pk and meta.auto_field is None)
            or any((obj.pk is not None) != with_pk or type(obj) is not model for obj in objs)
            or len(objs) * len(fields) > (connection.features.max_query_params or 1 << 30)
            or (ignore and not connection.features.supports_ignore_conflicts)
            or (upsert and not connection.features.supports_update_conflicts_with_target)):
        model._default_manager.bulk_create(objs, **kwargs)
        return
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    cache = _cache(connection)
    key = ("insert_rows", model, len(objs), conflicts, tuple(unique_fields), tuple(update_fields))
    compiled = cache.get(key)
    if compiled is None:  # (before the values: compiling stamps auto_now columns on the objects)
        updated, unique = [meta.get_field(name) for name in update_fields], [meta.get_field(name) for name in unique_fields]
        on_conflict = model._default_manager.all()._check_bulk_create_options(
            ignore, upsert, updated or None, unique or None)
        query = InsertQuery(model, on_conflict=on_conflict, update_fields=updated, unique_fields=unique)
        query.insert_values(fields, objs)
        ((sql, compiled_params),) = query.get_compiler(using=alias).as_sql()
        # PostgreSQL (Django 5.2) inserts several rows as `UNNEST(%s::type[], …)`: one array per column
        by_column = len(objs) > 1 and len(compiled_params) == len(fields) != len(objs) * len(fields)
        compiled = cache[key] = (sql, by_column)
    sql, by_column = compiled
    rows: list[list[Any]] = []
    for obj in objs:
        values = _values(obj, fields, connection, True)
        if values is None:
            model._default_manager.bulk_create(objs, **kwargs)
            return
        rows.append(values)
    params = [list(column) for column in zip(*rows, strict=True)] if by_column else [value for row in rows for value in row]
    with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
    for obj in objs:
        obj._state.db, obj._state.adding = alias, False


def save_fields(instance: Model, update_fields: Sequence[str]) -> None:
    """`instance.save(update_fields=update_fields)`: one UPDATE of those columns (auto_now ones stamped when
    named), DatabaseError when the row is gone, as Django raises it."""
    model = type(instance)
    if not _plain(model) or instance._state.adding or instance.pk is None:
        instance.save(update_fields=update_fields)
        return
    if not update_columns(instance, update_fields):
        with transaction.mark_for_rollback_on_error(router.db_for_write(model, instance=instance)):
            raise DatabaseError("Save with update_fields did not affect any rows.")


def update_columns(instance: Model, update_fields: Sequence[str]) -> int:
    """`type(instance).objects.filter(pk=instance.pk).update(…)` of these columns with the instance's values
    (each field's `pre_save`, so a named `auto_now` column is stamped); how many rows (0 or 1)."""
    model = type(instance)
    alias = router.db_for_write(model, instance=instance)
    connection = connections[alias]
    names = frozenset(update_fields)
    meta = model._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.pk and not field.generated
              and (field.name in names or field.attname in names)]
    values = None
    if len(fields) == len(names) and instance.pk is not None:  # else Django's update says what is wrong
        instance._prepare_related_fields_for_save(operation_name="save", fields=fields)
        values = _values(instance, fields, connection, False)
    if values is None:
        return model._base_manager.using(alias).filter(pk=instance.pk).update(
            **{name: getattr(instance, meta.get_field(name).attname) for name in update_fields})
    cache = _cache(connection)
    key = ("update", model, tuple(field.attname for field in fields))
    sql = cache.get(key)
    if sql is None:
        query = model._base_manager.using(alias).filter(pk=instance.pk).query.chain(klass=_update_query())
        query.add_update_fields([(field, None, getattr(instance, field.attname)) for field in fields])
        sql, _params = query.get_compiler(using=alias).as_sql()
        sql = cache[key] = sql
    kept = batch_rows.before_update(instance)
    with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
        cursor.execute(sql, [*values, meta.pk.get_db_prep_value(instance.pk, connection)])
        count = cursor.rowcount
    instance._state.db = alias
    if count:
        batch_rows.after_update(instance, kept, fields)
    return count


def _update_query() -> type:
    from django.db.models.sql.subqueries import UpdateQuery

    return UpdateQuery
