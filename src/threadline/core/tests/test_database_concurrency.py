"""The test database locks the way the embedded server's does: SQLite in WAL mode, where a reader in one
thread never fails because another thread holds a write transaction, and a second writer waits (busy
timeout) instead of failing. A shared-cache in-memory database answers both at once with "database table is
locked", which made socket tests that read while the worker thread writes fail under load."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from threadline.tenancy.models import Workspace
from threadline.testing import factories

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(func):
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_reads_and_writes_of_other_threads_wait_for_an_open_write_instead_of_failing():
    workspace = factories.make_workspace("Acme").workspace
    writing, release = threading.Event(), threading.Event()

    def writer() -> None:
        with transaction.atomic():
            Workspace.objects.filter(pk=workspace.pk).update(name="Renamed")
            writing.set()
            release.wait(10)

    held, held_outcome = in_thread(writer)
    assert writing.wait(10)
    reader, read = in_thread(lambda: list(Workspace.objects.values_list("name", flat=True)))
    reader.join(10)
    assert "error" not in read, read.get("error")
    assert read["value"] == ["Acme"]  # the last committed state, while the write is still open
    second, wrote = in_thread(lambda: Workspace.objects.filter(pk=workspace.pk).update(default_region="TH"))
    second.join(0.5)
    assert second.is_alive()  # waits for the first writer rather than failing
    release.set()
    held.join(10)
    second.join(10)
    assert "error" not in held_outcome and "error" not in wrote, wrote.get("error")
    workspace.refresh_from_db()
    assert (workspace.name, workspace.default_region) == ("Renamed", "TH")
