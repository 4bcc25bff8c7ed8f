"""Crash and resume, idempotent re-runs and the dry run, on a Zendesk-shaped source."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess

import pytest
from django.core.files.storage import default_storage

from threadline.core.errors import Conflict
from threadline.core.time import now
from threadline.migration import actions
from threadline.migration.fixtures.generator import build
from threadline.migration.models import Checkpoint, ImportRun, Skipped
from threadline.migration.tests.helpers import assert_complete, run, serving, snapshot

EXPORT = build(120, customers=30)


def stored_files() -> int:
    try:
        years, _files = default_storage.listdir("")
    except FileNotFoundError:
        return 0
    total = 0
    for year in years:
        for month in default_storage.listdir(year)[0]:
            total += len(default_storage.listdir(f"{year}/{month}")[1])
    return total


@pytest.mark.parametrize("kind", ["zendesk", "freshdesk", "helpscout"])
def test_a_provider_that_stops_answering_then_a_rerun_finishes_without_loss_or_duplicates(admin, kind):
    workspace = admin.workspace
    with serving(kind, EXPORT, page_size=25) as fake:
        # every request from then on: 503 (the importer retries, then stops) in the middle of the tickets
        fake.fail_from = {"zendesk": 90, "freshdesk": 90, "helpscout": 12}[kind]
        first = run(workspace, fake, page_size=25)
        assert first.error and "503" in first.error
        failed = ImportRun.objects.get(pk=first.run_id)
        assert failed.state == ImportRun.State.FAILED and "503" in failed.error
        partial = snapshot(workspace)
        assert 0 < partial["conversations"] < len(EXPORT.tickets)  # some pages were committed
        fake.fail_from = None
        second = run(workspace, fake, page_size=25)
    assert second.error == ""
    assert_complete(workspace, kind, EXPORT)
    assert second.counts["tickets"]["imported_ticket"] == len(EXPORT.tickets) - partial["conversations"]
    assert stored_files() == len([f for f in EXPORT.files if not f.filename.endswith(".exe")])


def test_a_kill_in_the_middle_of_a_page_leaves_no_half_page_and_the_rerun_resumes_there(admin, monkeypatch):
    workspace = admin.workspace
    real = actions.PageWriter.tickets
    pages = {"n": 0}

    def dies_on_the_third_page(self, items, files):
        pages["n"] += 1
        real(self, items, files)  # the rows are written, then the process dies before the commit
        if pages["n"] == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(actions.PageWriter, "tickets", dies_on_the_third_page)
    with serving("zendesk", EXPORT, page_size=20) as fake:
        with pytest.raises(KeyboardInterrupt):
            run(workspace, fake, page_size=20)
        assert snapshot(workspace)["conversations"] == 40  # two committed pages, nothing of the third
        assert Checkpoint.objects.get(workspace=workspace, source="zendesk", stage="tickets").complete is False
        assert stored_files() == len([f for t in EXPORT.tickets[:40] for c in t.comments for f in c.files
                                      if not f.filename.endswith(".exe")])  # the third page's files went too
        monkeypatch.setattr(actions.PageWriter, "tickets", real)
        # the "killed" command is this very process, still alive: the operator says it is gone
        with pytest.raises(Conflict):
            run(workspace, fake, page_size=20)
        second = run(workspace, fake, page_size=20, force=True)
    assert second.error == ""
    assert second.counts["tickets"]["imported_ticket"] == len(EXPORT.tickets) - 40
    assert_complete(workspace, "zendesk", EXPORT)


@pytest.mark.parametrize("kind", ["zendesk", "freshdesk", "helpscout"])
def test_a_rerun_imports_nothing_twice_and_picks_up_what_changed(admin, kind):
    workspace = admin.workspace
    with serving(kind, EXPORT) as fake:
        run(workspace, fake)
        before = snapshot(workspace)
        files = stored_files()
        again = run(workspace, fake, restart=True)  # every stage read from the start again
        assert again.error == ""
        assert snapshot(workspace) == before and stored_files() == files
        assert again.counts["tickets"].get("imported_ticket", 0) == 0
        assert again.counts["contacts" if kind != "zendesk" else "users"].get("imported_contact", 0) == 0
        # a ticket gets a new comment at the source; an incremental run adds just that one message
        ticket = EXPORT.tickets[7]
        extra = type(ticket.comments[0])(id=999_001, author=ticket.requester, by_agent=False, public=True,
                                         text="Any news?", created_at=ticket.updated_at)
        ticket.comments.append(extra)
        try:
            third = run(workspace, fake, restart=True)
        finally:
            ticket.comments.remove(extra)
    assert third.counts["tickets"]["imported_message"] == 1
    assert snapshot(workspace)["messages"] == before["messages"] + 1


@pytest.mark.parametrize("kind", ["zendesk", "freshdesk", "helpscout"])
def test_a_dry_run_reports_what_would_happen_and_writes_nothing(admin, kind):
    workspace = admin.workspace
    before = snapshot(workspace)
    with serving(kind, EXPORT) as fake:
        report = run(workspace, fake, dry_run=True)
    assert report.error == "" and report.run_id is None
    assert snapshot(workspace) == before and stored_files() == 0
    assert not ImportRun.objects.exists() and not Checkpoint.objects.exists() and not Skipped.objects.exists()
    assert report.counts["tickets"]["imported_ticket"] == len(EXPORT.tickets)
    assert report.counts["tickets"]["imported_message"] + report.counts["tickets"]["imported_note"] \
        == len(EXPORT.comments)
    assert report.counts["tickets"]["skipped_attachment"] == len([f for f in EXPORT.files if f.filename.endswith(".exe")])
    assert any("would import" in line for line in report.lines())


def test_one_run_of_a_source_at_a_time_and_a_dead_ones_run_is_closed_as_interrupted(admin):
    workspace = admin.workspace
    finished = subprocess.Popen(["true"])  # noqa: S607 - a process that has ended: its pid is free
    finished.wait()
    here = socket.gethostname()
    alive = ImportRun.objects.create(workspace=workspace, source="zendesk", process=f"{here}:{os.getpid()}")
    elsewhere = ImportRun.objects.create(workspace=workspace, source="freshdesk", process="other-host:12")
    gone = ImportRun.objects.create(workspace=workspace, source="helpscout", process=f"{here}:{finished.pid}")
    with serving("zendesk", EXPORT) as zendesk, serving("freshdesk", EXPORT) as freshdesk, \
            serving("helpscout", EXPORT) as helpscout:
        with pytest.raises(Conflict) as refused:
            run(workspace, zendesk)
        assert refused.value.code == "import_running"
        with pytest.raises(Conflict):
            run(workspace, freshdesk)  # another host's run wrote a page a moment ago
        ImportRun.objects.filter(pk=elsewhere.pk).update(updated_at=now() - dt.timedelta(minutes=11))
        assert run(workspace, freshdesk).error == ""
        assert run(workspace, helpscout).error == ""
        assert run(workspace, zendesk, force=True).error == ""
    for stale in (alive, elsewhere, gone):
        stale.refresh_from_db()
        assert stale.state == ImportRun.State.FAILED and stale.error.startswith("Interrupted")
    assert ImportRun.objects.filter(state=ImportRun.State.FINISHED).count() == 3
