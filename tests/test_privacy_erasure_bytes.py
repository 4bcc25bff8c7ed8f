"""Acceptance (issue 10, data-subject requests): after `threadline privacy erase --contact ID --now`, a byte
search of the installation's files finds none of the contact's unique strings: the SQLite database and its
WAL (a real file-based database of a real installation, search index included: its FTS5 tables live in the same
file), the attachment directory (where export archives live too). Their data reaches the self-service domains
as well: a survey comment, an external bot's turn (and its session, kept encrypted), an article's feedback
comment the help center forwarded with their email, a portal sign-in by link and its session. The search index found the contact before
(its documents and its typo dictionary) and finds nothing of them after. The audit log keeps a tombstone
without personal data.

The same data is searched for before the erasure, so the search is shown to find what it looks for. On
PostgreSQL (THREADLINE_DATABASE_URL) the database is searched row by row instead of as files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from threadline.privacy.tests.builders import BOT_STATE, SURVEY_COMMENT, UNIQUE
from threadline.testing.server import ServerProcess, migrated_copy

pytestmark = pytest.mark.slow

SETUP = """
import json
from django.db import transaction
from threadline.privacy.actions import do_request_export
from threadline.privacy.tasks import export_contact_task
from threadline.privacy.tests.builders import add_self_service, make_person, write_in
from threadline.testing import factories
from threadline.testing.receiver import Receiver

receiver = Receiver().start()
admin = factories.make_workspace()
channel = factories.make_api_channel(admin, webhook_url=receiver.url)
person = make_person(admin, channel, receiver.url)
add_self_service(admin, channel, person)
write_in(channel, "other-1", "bystander@example.net", "someone else entirely", name="Bo Bystander")
with transaction.atomic():
    export = do_request_export(admin, person.contact)
export_contact_task(export.pk)
receiver.stop()
print(json.dumps({"contact": person.contact.pk, "received": len(receiver.requests)}))
"""

TOMBSTONE = """
import json
from threadline.audit.models import AuditEntry
from threadline.bot.models import BotSession
from threadline.contacts.models import Contact
from threadline.portal.models import PortalSession, SignInLink
from threadline.privacy.tests.builders import BOT_STATE, UNIQUE, rows_mentioning
from threadline.surveys.models import SurveyResponse
from threadline.search.models import SearchTerm
from threadline.search.queries import AGENT_KINDS, AGENT_VISIBILITIES, find
workspace_id = Contact.objects.get(name="Bo Bystander").workspace_id
search = {q: len(find(workspace_id, q, kinds=AGENT_KINDS, visibilities=AGENT_VISIBILITIES, limit=10).hits)
          for q in ("Quillfeather", "glimmerwick7731", "uniq-example", "Bystander")}
print(json.dumps({"tombstones": list(AuditEntry.objects.filter(action="contact.erased").values("target_id", "details")),
                  "bystander": Contact.objects.filter(name="Bo Bystander").count(),
                  "rows": rows_mentioning(UNIQUE), "search": search,
                  "terms": SearchTerm.objects.filter(term__in=["quillfeather", "zephyrine", "glimmerwick7731"]).count(),
                  "bot_states": [s.external_state.get("conversation_id") for s in BotSession.objects.all()],
                  "portal": [PortalSession.objects.count(), SignInLink.objects.count()],
                  "survey_comments": list(SurveyResponse.objects.values_list("comment", flat=True))}))
"""


def found_in(directory: Path) -> dict[str, list[str]]:
    """Which unique strings (any case; phone numbers with or without the plus) each file holds."""
    needles = {s: {s.lower().encode(), s.lower().lstrip("+").encode()} for s in UNIQUE}
    hits: dict[str, list[str]] = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = path.read_bytes().lower()
        matched = [s for s, forms in needles.items() if any(form in data for form in forms)]
        if matched:
            hits[str(path.relative_to(directory))] = matched
    return hits


@pytest.fixture
def installation(request, tmp_path_factory, tmp_path):
    with migrated_copy(request, tmp_path_factory, tmp_path / "data") as url, \
            ServerProcess(tmp_path / "data", database_url=url) as proc:
        yield proc


def test_erasure_leaves_no_byte_of_the_contact_in_the_database_files_or_attachments(installation):
    env = {"THREADLINE_OUTBOUND_ALLOW_PRIVATE": "1"}
    made = json.loads(installation.run("shell", "--no-imports", "-c", SETUP, **env).stdout.strip().splitlines()[-1])
    assert made["received"] >= 3  # webhook copies and the reply went out
    data_dir = installation.data_dir
    sqlite = installation.env.get("THREADLINE_DATABASE_URL") is None
    before = found_in(data_dir)
    every = {s for strings in before.values() for s in strings}
    assert any(name.startswith("attachments/") for name in before)
    if sqlite:  # the search finds each string while the contact exists
        assert every == set(UNIQUE), before
        assert any(name.startswith("threadline.sqlite3") for name in before)
    indexed = installation.python(TOMBSTONE)
    assert all(indexed["search"][q] for q in ("Quillfeather", "glimmerwick7731", "uniq-example")), indexed["search"]
    assert indexed["terms"] == 3
    assert indexed["bot_states"] == [BOT_STATE] and indexed["portal"] == [1, 1]
    assert [c for c in indexed["survey_comments"] if c.endswith(SURVEY_COMMENT)]
    for table in ("SurveyResponse", "ArticleFeedback", "Message", "PortalSession", "SignInLink"):
        assert any(row.startswith(f"{table}: ") for row in indexed["rows"]), (table, indexed["rows"])
    if not sqlite:
        assert len(set(indexed["rows"])) > len(UNIQUE)

    erased = json.loads(installation.run("privacy", "erase", "--contact", str(made["contact"]), "--now").stdout)
    assert erased["state"] == "done" and erased["counts"]["contacts"] == 3  # with the portal's pseudo-contact

    assert found_in(data_dir) == {}
    if sqlite:
        assert (data_dir / "threadline.sqlite3").stat().st_size > 0
        wal = data_dir / "threadline.sqlite3-wal"
        assert not wal.exists() or wal.stat().st_size == 0  # checkpointed and truncated
    after = installation.python(TOMBSTONE)
    [tombstone] = after["tombstones"]
    assert len(tombstone["target_id"]) == 64 and tombstone["details"]["messages"] == 5  # 3, the bot's, the feedback
    assert not any(s.lower() in json.dumps(tombstone).lower() for s in UNIQUE)
    assert after["bystander"] == 1
    assert after["rows"] == []
    assert after["search"] == {"Quillfeather": 0, "glimmerwick7731": 0, "uniq-example": 0, "Bystander": 1}
    assert after["terms"] == 0
    assert after["bot_states"] == [] and after["portal"] == [0, 0] and after["survey_comments"] == []
