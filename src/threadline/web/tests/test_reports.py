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
    plan = make_plan(conversations=50)
    for conversation in plan.conversations:  # the survey test below answers surveys of its own
        conversation.survey = None
    written = write(admin, plan)
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


def answer_surveys(admin, scores):
    """Survey rows as the surveys domain writes them: a request per conversation, answered with `scores`
    (kind, score) in turn (None: sent, not answered); then the facts rebuilt, as the refresh would."""
    from threadline.conversations.models import Conversation
    from threadline.surveys.models import Survey, SurveyRequest, SurveyResponse

    surveys = {kind: Survey.objects.create(workspace_id=admin.workspace_id, kind=kind, enabled=True)
               for kind in ("csat", "nps", "ces")}
    conversations = Conversation.objects.filter(workspace_id=admin.workspace_id).order_by("pk")
    for conversation, (kind, score) in zip(conversations, scores, strict=False):
        request = SurveyRequest.objects.create(workspace_id=admin.workspace_id, survey=surveys[kind], kind=kind,
                                               conversation=conversation, contact_id=conversation.contact_id)
        if score is not None:
            SurveyResponse.objects.create(workspace_id=admin.workspace_id, request=request, conversation=conversation,
                                          contact_id=conversation.contact_id, kind=kind, score=score,
                                          responded_at=conversation.created_at)
    rebuild(admin.workspace_id)  # written here without events: the facts (and their survey columns) again
    return conversations


def figure(page, key):
    found = re.search(rf'<div data-figure="{key}"><dt>.*?</dt><dd>(.*?)</dd>', page, re.S)
    assert found, key
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found[1])).strip()


def test_survey_figures_and_the_previous_period(client, admin, month):
    conversations = answer_surveys(admin, [("csat", 5), ("csat", 4), ("csat", 2), ("csat", None), ("nps", 10),
                                           ("nps", 9), ("nps", 3), ("ces", 6), ("ces", 3)])
    client.force_login(admin.user)
    page = client.get("/app/reports").content.decode()
    assert figure(page, "csat").startswith("66.7 %")  # 2 satisfied of 3 answers
    assert "3 of 4 answered (75.0 %)" in figure(page, "csat")
    assert figure(page, "nps").startswith("33.3")  # 100 × (2 − 1) / 3
    assert figure(page, "ces").startswith("4.5")
    assert "Choose a start date to compare" in page and "previous period:" not in page
    # a week against the week before it: every figure shows its previous value and the change
    f = Filters(workspace_id=admin.workspace_id, start=dt.date(2026, 11, 16), end=dt.date(2026, 11, 22))
    before = Filters(workspace_id=admin.workspace_id, start=dt.date(2026, 11, 9), end=dt.date(2026, 11, 15))
    page = client.get("/app/reports?start=2026-11-16&end=2026-11-22").content.decode()
    assert "2026-11-09</bdi> to <bdi dir=\"ltr\">2026-11-15" in page
    now, then = metrics.channel_switch(f)["rate"], metrics.channel_switch(before)["rate"]
    shown = figure(page, "switch_rate")
    assert shown.startswith(f"{now * 100:.1f} %") and f"previous period: {then * 100:.1f} %" in shown
    if now != then:
        arrow, word = ("▲", "up") if now > then else ("▼", "down")
        assert f"{arrow} {word} {abs(now - then) * 100:.1f} pts" in shown
    now, then = metrics.reopen_rate(f)["rate"], metrics.reopen_rate(before)["rate"]
    verdict = re.search(r'<div data-figure="reopen_rate">.*?class="delta (\w+)"', page, re.S)[1]
    assert verdict == ("neutral" if now is None or then is None or now == then else
                       "better" if now < then else "worse")  # a lower reopen rate is better
    assert page.count("previous period:") == 14
    assert conversations.count() == 50


def test_one_page_per_area_with_its_figures_sections_and_chart_data(client, admin, month):
    """The overview, then a page per area: only that area's figures and sections, each chart's figures in
    the page's JSON (the numbers of the table beside it), the filters kept in every area's link; an unknown
    area is a 400."""
    import json

    client.force_login(admin.user)
    f = Filters(workspace_id=admin.workspace_id)
    expected = {
        "volume": (set(), {"channels-title", "days-title"}),
        "times": ({"first_response_median", "first_response_p90", "next_response_median", "resolution_median",
                   "resolution_p90"}, set()),
        "quality": ({"reopen_rate", "fcr_rate", "repeat_rate", "switch_rate", "explain_twice_rate", "bot_deflection"},
                    set()),
        "satisfaction": ({"csat", "nps", "ces"}, {"agents-title"}),
        "agents": (set(), {"agents-title"}),
        "sla": (set(), {"sla-title"}),
    }
    overview = client.get("/app/reports?language=en").content.decode()
    assert len(re.findall(r'data-figure="', overview)) == 14
    for area, (figures, sections) in expected.items():
        assert f'href="/app/reports?area={area}&amp;language=en"' in overview
        page = client.get(f"/app/reports?area={area}&language=en").content.decode()
        assert set(re.findall(r'data-figure="([a-z_0-9]+)"', page)) == figures, area
        assert set(re.findall(r'<section aria-labelledby="([a-z]+-title)"', page)) == {"overview-title", *sections}, area
        assert f'<input type="hidden" name="area" value="{area}">' in page
    charts = json.loads(re.search(r'<script id="report-charts" type="application/json">(.*?)</script>',
                                  client.get("/app/reports?area=agents").content.decode(), re.S)[1])
    handled = {row["agent_id"]: row["handled"] for row in metrics.agents(f) if row["handled"]}
    assert sorted(charts["agents"]["values"]) == sorted(handled.values()) and len(charts["agents"]["links"]) == len(handled)
    sla = [round(100 * row["first_response"]["attainment"], 1) for row in metrics.sla(f)
           if row["first_response"]["attainment"] is not None]
    assert charts["sla"]["values"] == sla and sla
    answer = client.get("/app/reports?area=nowhere")
    assert answer.status_code == 400
