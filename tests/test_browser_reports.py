"""In headless Chromium against a real `threadline serve` with a seeded month: /app/reports renders its figures,
the Chart.js charts (served from node_modules, drawn on their canvas with the table's numbers, right to left in
Hebrew, no CSP violation) and the SVG bars of their fallback tables in English at 1280 px and in Hebrew (right
to left) at 390 px without overflowing the window; a
channel's number drills down to the /app/ list of that channel's conversations; the CSV export downloads with
the same number of conversations the page shows; a dated report shows every figure with the previous period's
value and the change, still within the window. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import csv
import io
import re

import pytest

from threadline.testing.server import migrated_copy
from threadline.web.testkit import ADMIN_EMAIL, axe_findings, screenshot, settle, sign_in, threadline_server

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
SEED = """
import json
from threadline.analytics.refresh import rebuild
from threadline.analytics.testing import make_plan, write
from threadline.tenancy.models import Membership
admin = Membership.objects.select_related("workspace").get(user__email={email!r})
written = write(admin, make_plan(conversations=40))
rebuild(admin.workspace_id)
print(json.dumps({{"channels": written.channel_ids}}))
"""


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("reports") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        proc.seeded = proc.python(SEED.format(email=ADMIN_EMAIL))
        yield proc


@pytest.mark.parametrize(("language", "width", "height"), [("en", 1280, 800), ("he", 390, 844)])
def test_reports_render_with_bars_and_drill_down(server, browser, language, width, height):
    server.shell("from threadline.tenancy.models import User; "
                 f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language={language!r})")
    page = browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in(page, server.url)
    page.goto(f"{server.url}/app/reports")
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
    assert page.locator("td.bar svg rect").count() >= 3 and page.locator("td.bar svg").first.is_visible()
    assert_charts_drawn(page, rtl=language == "he")
    assert not [m for m in problems if "Content Security Policy" in m or "Chart" in m], problems
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => { const r = e.getBoundingClientRect(); return r.right > document.documentElement.clientWidth + 1 || r.left < -1; }).slice(0, 12).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().left) + '..' + Math.round(e.getBoundingClientRect().right))""")
    assert page.evaluate(OVERFLOW) <= 0, f"/app/reports is wider than {width}px: {wide}"
    assert re.search(r"\b40\b", page.locator("#overview-title").inner_text())
    screenshot(page, f"reports-{language}-{width}")
    # a week compared with the week before: each single figure carries its previous value and change
    page.goto(f"{server.url}/app/reports?start=2026-11-16&end=2026-11-22")
    assert page.locator("[data-figure] .delta").count() == 14
    assert page.locator("[data-figure='csat'] .delta").is_visible()
    assert page.evaluate(OVERFLOW) <= 0, f"/app/reports with a previous period is wider than {width}px"
    screenshot(page, f"reports-previous-{language}-{width}")
    page.goto(f"{server.url}/app/reports")
    with page.expect_download() as download:
        page.locator("a[href^='/app/reports/export?what=conversations&']").first.click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))  # noqa: PTH123
    assert len(rows) == 40
    channel = server.seeded["channels"][0]
    link = page.locator(f"a.drill[href*='channel={channel}']")
    shown = int(link.inner_text())
    assert shown == sum(1 for row in rows if row["origin_channel_id"] == str(channel))
    link.click()
    page.wait_for_url(f"{server.url}/app/?**")
    page.wait_for_selector("#rows li.row")
    assert page.locator("#rows li.row").count() >= min(shown, 25)  # conversations that used the channel
    screenshot(page, f"reports-drilldown-{language}-{width}")


def assert_charts_drawn(page, *, rtl: bool) -> None:
    """Both canvases hold a Chart.js chart whose bars are the table's numbers, drawn (pixels painted), inside the
    window, with the value axis reversed right to left."""
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-channels') && Chart.getChart('chart-days')")
    for canvas, table in (("chart-channels", "channels-title"), ("chart-days", "days-title")):
        chart = page.evaluate("""(id) => { const c = Chart.getChart(id); const el = document.getElementById(id);
            const box = el.getBoundingClientRect(); const px = el.getContext('2d').getImageData(0, 0, el.width, el.height).data;
            let painted = 0; for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
            return {values: c.data.datasets[0].data, bars: c.getDatasetMeta(0).data.length, painted,
                    width: box.width, right: box.right, left: box.left, axis: c.options.indexAxis,
                    reversed: c.scales.x.options.reverse}; }""", canvas)
        shown = [int(n) for n in page.locator(f"section[aria-labelledby='{table}'] td.num").all_inner_texts()]
        assert chart["values"] == shown and chart["bars"] == len(shown) and shown, (canvas, chart, shown)
        assert chart["painted"] > 500, f"{canvas} has a chart but nothing drawn: {chart}"
        assert chart["width"] > 200 and chart["left"] >= 0
        assert chart["right"] <= page.evaluate("document.documentElement.clientWidth") + 1
        assert chart["reversed"] is rtl, chart
    assert page.locator("script[src*='/static/chart.js/chart.umd']").count() == 1  # from node_modules, no CDN


LIVE_RULE = """
from django.db import transaction
from threadline.analytics.actions import AlertConfig, do_create_alert_rule
from threadline.tenancy.models import Membership
admin = Membership.objects.get(user__email={email!r})
with transaction.atomic():
    rule = do_create_alert_rule(admin, AlertConfig(name="Live backlog", metric="backlog", comparison="above",
                                                   threshold=1, recipient_ids=(admin.pk,)))
    # off until the page is open: the embedded scheduler's own evaluation could fire it before the page loads
    type(rule).objects.filter(pk=rule.pk).update(enabled=False)
print(rule.pk)
"""
# The scheduler's job, run by the server's own worker: its `alert.fired` reaches the sockets of that process
# (a `threadline shell` has a channel layer of its own; the socket would only replay it on reconnecting).
EVALUATE = "from threadline.analytics.tasks import evaluate_alerts_task; evaluate_alerts_task.enqueue()"
STATE = "from threadline.analytics.models import AlertRule; print(AlertRule.objects.get(pk={pk}).state)"


@pytest.mark.parametrize(("language", "width", "height"), [("en", 1280, 800), ("he", 390, 844)])
def test_the_navigation_counts_an_alert_live_when_it_fires_and_clears(server, browser, language, width, height):
    """/app/ is open with nothing firing (no entry); the scheduler's evaluation job fires a rule: the entry
    appears with 1 through the socket, without a reload; when the rule clears it goes."""
    server.shell("from threadline.tenancy.models import User; "
                 f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language={language!r})")
    rule_id = int(server.shell(LIVE_RULE.format(email=ADMIN_EMAIL)).splitlines()[-1])
    try:
        page = browser.new_page(viewport={"width": width, "height": height})
        sign_in(page, server.url)
        page.goto(f"{server.url}/app/")
        nav = page.locator("#alerts-nav")
        assert nav.count() == 1 and nav.get_attribute("hidden") is not None  # nothing fires yet
        settle(page)  # the socket is open and caught up (a later hello would replay the event anyway)
        server.shell("from threadline.analytics.models import AlertRule; "
                     f"AlertRule.objects.filter(pk={rule_id}).update(enabled=True)")
        server.shell(EVALUATE)  # the seeded month leaves more than one conversation open
        page.wait_for_function("() => !document.getElementById('alerts-nav').hidden", timeout=20_000)
        assert page.locator("#alerts-count").text_content() == "1"
        assert server.shell(STATE.format(pk=rule_id)).splitlines()[-1] == "firing"
        if width > 390:
            assert nav.is_visible()
        screenshot(page, f"alerts-nav-live-{language}-{width}")
        server.shell(f"from threadline.analytics.models import AlertRule; "
                     f"AlertRule.objects.filter(pk={rule_id}).update(threshold=1e9)")
        server.shell(EVALUATE)
        page.wait_for_function("() => document.getElementById('alerts-nav').hidden", timeout=20_000)
        assert page.locator("#alerts-count").text_content() == "0"
        assert server.shell(STATE.format(pk=rule_id)).splitlines()[-1] == "clear"
    finally:
        server.shell(f"from threadline.analytics.models import AlertRule; AlertRule.objects.filter(pk={rule_id}).delete()")


ALERTS_SEED = """
from django.db import transaction
from threadline.analytics.actions import AlertConfig, ScheduleConfig, do_create_alert_rule, do_create_report_schedule
from threadline.analytics.actions import evaluate_alerts
from threadline.tenancy.models import Membership
admin = Membership.objects.get(user__email={email!r})
with transaction.atomic():
    do_create_alert_rule(admin, AlertConfig(name="תור ארוך מדי", metric="backlog", comparison="above", threshold=1,
                                            recipient_ids=(admin.pk,)))
    do_create_report_schedule(admin, ScheduleConfig(name="Weekly figures", recipient_ids=(admin.pk,)))
evaluate_alerts()
"""


@pytest.fixture(scope="module")
def alerting(server):
    server.shell(ALERTS_SEED.format(email=ADMIN_EMAIL))
    return server


@pytest.mark.parametrize(("language", "width", "height"), [
    ("en", 1280, 800), ("he", 1280, 800), ("en", 390, 844), ("he", 390, 844)])
def test_alerts_screen_fits_a_phone_and_passes_axe(alerting, browser, language, width, height):
    server = alerting
    server.shell("from threadline.tenancy.models import User; "
                 f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language={language!r})")
    page = browser.new_page(viewport={"width": width, "height": height})
    sign_in(page, server.url)
    page.goto(f"{server.url}/app/reports/alerts")
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
    assert page.locator("#alerts tr[data-state='firing']").count() == 1
    assert page.locator("#schedules tr[data-schedule]").count() == 1
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => { const r = e.getBoundingClientRect(); return r.right > document.documentElement.clientWidth + 1 || r.left < -1; }).slice(0, 12).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().left) + '..' + Math.round(e.getBoundingClientRect().right))""")
    assert page.evaluate(OVERFLOW) <= 0, f"/app/reports/alerts is wider than {width}px: {wide}"
    assert axe_findings(page) == []
    screenshot(page, f"report-alerts-{language}-{width}")
    page.goto(f"{server.url}/app/")
    # the navigation counts the firing rule (at 390 px the navigation is behind its menu button)
    nav = page.locator("#alerts-nav")
    assert nav.get_attribute("hidden") is None and page.locator("#alerts-count").text_content() == "1"
    if width > 390:
        assert nav.is_visible()
