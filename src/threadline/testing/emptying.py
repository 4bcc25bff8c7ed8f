"""How a transactional test leaves the test database: the tables that hold rows are emptied, nothing else.

Django's `TransactionTestCase` ends each test with the `flush` command: on PostgreSQL one `TRUNCATE` of every
model's table (238 here), which gives each table and index a new file, ~1.5 s idle and 4-5 s on a loaded machine
even when every table is already empty; then the `post_migrate` signal writes the content types and permissions
again, one transaction per app (~0.7 s on SQLite, 79 commits). A run has ~400 such tests (the SMTP, IMAP,
socket, translation, worker and browser-helper tests), so the flush alone was minutes of each mode.

`empty_database` asks in one statement which of those tables hold a row and deletes from only those, in one
transaction (Django's foreign keys are deferred to the commit on both databases, so the order does not matter),
and keeps the content types and permissions, which are what `post_migrate` would write again. The end state is
the one `flush` leaves: every model's table empty but those two; tables of no model (SQLite's full-text tables,
whose triggers follow the rows) are `flush`'s business as little as before. A test that asks for
`serialized_rollback` or `available_apps` still gets Django's own teardown.
"""

from __future__ import annotations

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import TransactionTestCase

# what `post_migrate` (contenttypes, auth) would write again after a flush: kept instead
KEPT = frozenset({"django_content_type", "auth_permission"})
CHUNK = 200  # SQLite allows 500 terms in a compound SELECT


def tables_with_rows(connection: BaseDatabaseWrapper) -> list[str]:
    tables = sorted(set(connection.introspection.django_table_names(only_existing=True, include_views=False)) - KEPT)
    quote = connection.ops.quote_name
    found: list[str] = []
    with connection.cursor() as cursor:
        for start in range(0, len(tables), CHUNK):
            chunk = tables[start:start + CHUNK]
            cursor.execute(" UNION ALL ".join(f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(table)})"
                                              for table in chunk), chunk)
            found += [row[0] for row in cursor.fetchall()]
    return found


def empty_database(alias: str) -> list[str]:
    """Delete every row of the model tables that hold any (but `KEPT`); returns the tables emptied."""
    connection = connections[alias]
    with transaction.atomic(using=alias):
        full = tables_with_rows(connection)
        with connection.cursor() as cursor:
            for table in full:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
    return full


def _fixture_teardown(self: TransactionTestCase) -> None:
    if self.serialized_rollback or self.available_apps is not None:
        _django_fixture_teardown(self)
        return
    for alias in self._databases_names(include_mirrors=False):
        empty_database(alias)


_django_fixture_teardown = TransactionTestCase._fixture_teardown


def install() -> None:
    """Used by the test plugin (`testing.fixtures`) for every transactional test of the run."""
    TransactionTestCase._fixture_teardown = _fixture_teardown
