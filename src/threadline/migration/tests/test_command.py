"""`threadline import <source>`: options, the printed report, the search index afterwards, and workspaces
kept apart."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from threadline.conversations.models import Conversation
from threadline.migration.fixtures.generator import build
from threadline.migration.models import ExternalRef, ImportRun
from threadline.migration.tests.helpers import assert_complete, serving
from threadline.search.queries import AGENT_VISIBILITIES, find
from threadline.testing import factories

EXPORT = build(12, customers=6)


def test_the_command_imports_prints_its_report_and_indexes_for_search(admin, monkeypatch, capsys):
    monkeypatch.setenv("ZENDESK_API_TOKEN", "s3cret")
    with serving("zendesk", EXPORT) as fake:
        call_command("import", "zendesk", "--workspace", admin.workspace.slug, "--url", fake.url,
                     "--user", fake.user)
    out = capsys.readouterr().out
    tickets = next(line for line in out.splitlines() if line.strip().startswith("tickets:"))
    assert "imported ticket=12" in tickets and "imported message=" in tickets and "imported attachment=" in tickets
    assert "skipped 1 rating (not_answered)" in out
    assert_complete(admin.workspace, "zendesk", EXPORT)
    run = ImportRun.objects.get()
    assert run.state == ImportRun.State.FINISHED and run.counts["tickets"]["imported_ticket"] == 12
    hits = find(admin.workspace_id, "tracking", kinds=["message"], visibilities=AGENT_VISIBILITIES, limit=50).hits
    english = [c for t in EXPORT.tickets if t.language == "en" for c in t.comments if "tracking" in c.text]
    assert english and len(hits) == len(english)  # the imported history was indexed at the end of the run


def test_the_command_refuses_without_credentials_and_reports_a_refusal_as_an_error(admin, monkeypatch, capsys):
    monkeypatch.delenv("FRESHDESK_API_KEY", raising=False)
    with pytest.raises(CommandError, match="FRESHDESK_API_KEY"):
        call_command("import", "freshdesk", "--workspace", admin.workspace.slug, "--url", "http://127.0.0.1:9")
    with serving("freshdesk", EXPORT) as fake, pytest.raises(CommandError, match="401"):
        call_command("import", "freshdesk", "--workspace", admin.workspace.slug, "--url", fake.url,
                     "--secret", "wrong", "--json", "--no-reindex")
    report = json.loads(capsys.readouterr().out)
    assert report["error"] and report["counts"] == {}
    assert ImportRun.objects.get().state == ImportRun.State.FAILED


def test_two_workspaces_import_the_same_account_apart(admin):
    other = factories.make_workspace("Other Support")
    with serving("helpscout", EXPORT) as fake:
        for workspace in (admin.workspace, other.workspace):
            call_command("import", "helpscout", "--workspace", workspace.slug, "--url", fake.url, "--user", fake.user,
                         "--secret", fake.secret, "--no-reindex", "--json")
    for workspace in (admin.workspace, other.workspace):
        assert_complete(workspace, "helpscout", EXPORT)
        ids = set(ExternalRef.objects.filter(workspace=workspace, kind="ticket").values_list("local_id", flat=True))
        assert ids == set(Conversation.objects.filter(workspace=workspace).values_list("pk", flat=True))
    assert not set(Conversation.objects.filter(workspace=admin.workspace).values_list("contact__workspace_id", flat=True)) \
        - {admin.workspace_id}
