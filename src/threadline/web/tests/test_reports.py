"""/app/reports: the overview over a seeded month, in English and Hebrew (RTL), drill-down links to the
conversation list, CSV exports with the screen's numbers, analytics.view required, one workspace only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest

from threadline.analytics import metrics
from threadline.analytics.metrics import Filters
from threadline.analytics.refresh import rebuild
from threadline.analytics.testing import make_plan, write
from threadline.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(admin):
    written = write(admin, make_plan(conversations=50))
    rebuild(admin.workspace_id)
    return written


def test_the_overview_shows_the_metrics_with_bars_and_drill_down(client, admin, month):
    client.force_login(admin.user)
    page = client.get("/app/reports").content.decode()
    f = Filters(workspace_id=admin.workspace_id)
    assert "50 conversations" in page
    backlog = metrics.backlog(f)["open"]
    assert f'class="drill">{backlog}</a>' in page
    assert page.count("<svg viewBox") == len({row["channel_id"] for row in metrics.volume(f)}) + len(
        {row["bucket"] for row in metrics.volume(f)})
    switch = metrics.channel_switch(f)["rate"]
    assert f"{switch * 100:.1f} %" in page
    channel = month.channel_ids[0]
    link = re.search(rf'href="(/app/\?[^"]*channel={channel}[^"]*)" class="drill">(\d+)<', page)
    assert link and int(link[2]) == sum(r["count"] for r in metrics.volume(f) if r["channel_id"] == channel)
    listing = client.get(link[1].replace("&amp;", "&"))
    assert listing.status_code == 200
    narrowed = client.get(f"/app/reports?channel_id={channel}&start=2026-11-10&end=2026-11-20").content.decode()
    count = metrics.channel_switch(Filters(workspace_id=admin.workspace_id, channel_id=channel,
                                           start=dt.date(2026, 11, 10), end=dt.date(2026, 11, 20)))["conversations"]
    assert f"{count} conversations" in narrowed or (count == 1 and "1 conversation" in narrowed)


def test_csv_exports_carry_the_same_numbers(client, admin, month):
    client.force_login(admin.user)
    answer = client.get("/app/reports/export?what=conversations")
    assert answer["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))
    f = Filters(workspace_id=admin.workspace_id)
    assert len(rows) == 50
    assert sum(1 for r in rows if len(r["channels_used"].split()) > 1) == metrics.channel_switch(f)["switched"]
    assert sum(int(r["messages_contact"]) for r in rows) == sum(
        1 for p in make_plan(conversations=50).conversations for s in p.steps if s.side == "contact")
    days = list(csv.DictReader(io.StringIO(b"".join(
        client.get("/app/reports/export?what=channels").streaming_content).decode())))
    assert sum(int(r["new_conversations"]) for r in days) == 50


def test_hebrew_right_to_left_and_a_phone(client, admin, month):
    admin.user.language = "he"
    admin.user.save(update_fields=["language"])
    client.force_login(admin.user)
    page = client.get("/app/reports").content.decode()
    assert '<html lang="he" dir="rtl">' in page and "<svg viewBox" in page
    css = (Path(__file__).resolve().parent.parent / "static" / "web" / "reports.css").read_text()
    assert '[dir="rtl"] .reports td.bar svg { transform: scaleX(-1); }' in css
    assert not re.search(r"\b(left|right)\b", css)  # logical properties only
    assert "overflow-x: auto" in css and "96vw" in css


def test_permission_and_other_workspaces(client, admin, month):
    agent = factories.make_agent(admin, "agent@example.com")
    client.force_login(agent.user)
    assert client.get("/app/reports").status_code == 403
    assert client.get("/app/reports/export").status_code == 403
    assert 'href="/app/reports"' not in client.get("/app/settings").content.decode()
    other = factories.make_workspace("Elsewhere")
    theirs = factories.make_api_channel(other)
    client.force_login(admin.user)
    assert 'href="/app/reports"' in client.get("/app/settings").content.decode()
    assert client.get(f"/app/reports?channel_id={theirs.pk}").status_code == 404
    assert client.get("/app/reports?start=nonsense").status_code == 400
    client.force_login(other.user)
    assert "0 conversations" in client.get("/app/reports").content.decode()
