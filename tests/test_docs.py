"""The README documents every THREADLINE_ variable the code reads, and the two Quick start commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import threadline
from threadline.config import env

REPO = Path(threadline.__file__).resolve().parents[2]


def test_readme_documents_every_variable():
    readme = (REPO / "README.md").read_text()
    missing = [name for name in env.VARIABLES if f"`THREADLINE_{name}`" not in readme]
    assert missing == []


def test_every_variable_the_code_reads_is_declared():
    used: set[str] = set()
    for path in (REPO / "src" / "threadline").rglob("*.py"):
        if "tests" in path.parts:
            continue
        text = path.read_text()
        used |= set(re.findall(r"(?<![A-Z_])THREADLINE_([A-Z][A-Z0-9_]+)", text))
        used |= set(re.findall(r"env\.(?:get|flag)\(\s*\"([A-Z][A-Z0-9_]+)\"", text))
    assert sorted(used - set(env.VARIABLES)) == []


def test_quick_start_is_make_run_and_make_test():
    readme = (REPO / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make run" in quick and "make test" in quick


CHANNEL_DOCS = {"instagram": "messenger"}  # Instagram is documented with Messenger


def create_examples(kind: str) -> tuple[str, dict]:
    """The documented `threadline channel create <kind>` line and the JSON body of its curl example."""
    text = (REPO / "docs" / "channels" / f"{CHANNEL_DOCS.get(kind, kind)}.md").read_text()
    section = text.split(f"## Create one (`{kind}`)", 1)[1].split("\n## ", 1)[0]
    command = next(line for line in section.splitlines()
                   if line.startswith(("threadline channel create ", "CHANNEL_")) and f" create {kind}" in line)
    body = re.search(r"-d '(\{.*\})'", section)
    assert body, f"no curl example for {kind}"
    return command, json.loads(body.group(1))


def test_the_docs_stand_alone_without_the_design_brief():
    """A reader of the repository has no ../shared/DESIGN.md: nothing may send them there."""
    places = [REPO / "README.md", *(REPO / "docs").rglob("*.md"), *(REPO / "src").rglob("*.py")]
    assert [str(p.relative_to(REPO)) for p in places if "DESIGN" in p.read_text()] == []


def test_every_channel_kind_documents_a_cli_and_a_rest_example_that_work(api, monkeypatch):
    """The documented command creates the channel, and the documented curl body is accepted by the API."""
    import io
    import shlex

    from django.core.management import call_command

    from threadline.channels.models import Channel
    from threadline.channels.registry import kinds

    for kind in kinds():
        command, body = create_examples(kind)
        words = shlex.split(command)
        for word in words[: words.index("threadline")]:
            name, _sep, value = word.partition("=")
            monkeypatch.setenv(name, value)
        out = io.StringIO()
        call_command(*words[words.index("threadline") + 1:], stdout=out)
        created = json.loads(out.getvalue())
        assert Channel.objects.get(pk=created["id"]).kind == kind
        Channel.objects.filter(pk=created["id"]).delete()  # the REST example claims the same addresses
        for word in words[: words.index("threadline")]:
            monkeypatch.delenv(word.partition("=")[0])
        assert body["kind"] == kind
        answer = api.post("/api/v1/channels", body, content_type="application/json")
        assert answer.status_code == 201, (kind, answer.content)
        assert answer.json()["inbound_webhook_url"].endswith(f"/hooks/{kind}/{answer.json()['id']}/")


def test_readme_says_how_to_run_the_cli_clean_and_the_test_prerequisites():
    readme = (REPO / "README.md").read_text()
    for needle in (".venv/bin/threadline", "make cli", "make distclean", "make clean", "Dovecot", "Chromium",
                   "flufl.bounce", "threadline channel create <kind>"):
        assert needle in readme, needle
    makefile = (REPO / "Makefile").read_text()
    clean = makefile.split("\nclean:", 1)[1].split("\n\n", 1)[0]
    assert "var" not in clean  # make clean keeps the data
    assert "rm -rf var" in makefile.split("\ndistclean:", 1)[1]


def test_webhooks_page_lists_every_event_type(db):
    from threadline.webhooks.queries import event_types

    page = (REPO / "docs" / "webhooks.md").read_text()
    missing = [event.type for event in event_types() if f"| `{event.type}` |" not in page]
    assert missing == [], "add a row for each to docs/webhooks.md (fields: GET /api/v1/webhooks/event-types)"
