"""`core.migrating`: whether a migration is due, read without importing one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from threadline.core import migrating


def test_the_file_names_are_the_migrations_djangos_loader_finds():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    assert migrating.migration_names() == set(loader.disk_migrations)
    assert ("analytics", "0008_stale_day") in migrating.migration_names()


@pytest.mark.django_db
def test_nothing_is_pending_on_a_migrated_database_and_one_record_missing_is():
    assert migrating.pending() is False
    MigrationRecorder(connection).migration_qs.filter(app="analytics", name="0008_stale_day").delete()
    assert migrating.pending() is True


@pytest.mark.django_db
def test_a_record_table_that_cannot_be_read_counts_as_pending(monkeypatch):
    """`migrate` then runs, and says what is wrong with the database (serve stops there)."""
    def missing_table(self):  # noqa: ANN001, ANN202 - the recorder's read, failing as the database would
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM threadline_no_such_table")

    monkeypatch.setattr(MigrationRecorder, "applied_migrations", missing_table)
    assert migrating.pending() is True
