"""In headless Chromium against a real `threadline serve`: the service administration screens (teams, business
hours, SLA policies, routing rules, automations, tags and fields, surveys). An admin creates a team, a schedule
and an SLA policy through the forms, builds an automation with the builder's "Add a condition" button, dry-runs
and saves it; in Hebrew on a phone, sets the surveys' quiet hours and NPS's schedule; then every screen, in English and in Hebrew (right to left), at 1280 px and at 390 px: nothing
scrolls sideways and axe-core reports no critical or serious violation. Screenshots in test-artifacts/."""

from __future__ import annotations

import json

import pytest

from threadline.testing.server import migrated_copy
from threadline.web.testkit import (
    axe_findings,
    screenshot,
    set_up_workspace,
    settle,
    sign_in,
    threadline_server,
)

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
WAIT = 15_000
SIZES = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}
SCREENS = ("teams", "hours", "sla", "routing", "automations", "fields", "surveys")


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("admin-service") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        set_up_workspace(proc)
        yield proc


def _notice(page, text: str) -> None:
    page.locator(".notice", has_text=text).wait_for(timeout=WAIT)


def test_an_admin_sets_up_service_in_the_browser(server, browser):
    page = browser.new_context(viewport=SIZES["1280"]).new_page()
    sign_in(page, server.url)
    page.goto(f"{server.url}/app/admin/teams")
    page.fill('section[aria-labelledby="new-team"] input[name=name]', "Support desk")
    page.click('section[aria-labelledby="new-team"] button[type=submit]')
    _notice(page, "Team created.")

    page.goto(f"{server.url}/app/admin/hours")
    new = page.locator("form[action='/app/admin/hours']")
    new.locator("input[name=name]").fill("Office")
    new.locator("input[name=time_zone]").fill("Asia/Jerusalem")
    new.locator("input[name=sun_start]").first.fill("09:00")
    new.locator("input[name=sun_end]").first.fill("17:00")
    new.locator("button[type=submit]").click()
    _notice(page, "Schedule created.")
    assert page.locator(".svc-badge", has_text="now").count() == 1  # open now / closed now

    page.goto(f"{server.url}/app/admin/sla")
    new = page.locator("form[action='/app/admin/sla']")
    new.locator("input[name=name]").fill("Everyone")
    new.locator("input[name=first_response_minutes]").fill("60")
    new.locator("select[name=schedule_id]").select_option(label="Office")
    new.locator("button[type=submit]").click()
    _notice(page, "SLA policy created.")

    page.goto(f"{server.url}/app/admin/automations/new")
    page.fill("input[name=name]", "Refunds are urgent")
    rows = page.locator("[data-rows=condition] [data-row]")
    before = rows.count()
    page.click("button[data-add=condition]")  # the ES module adds a row
    assert rows.count() == before + 1
    rows.last.locator("input[name=cond_field]").fill("message.text")
    rows.last.locator("select[name=cond_op]").select_option("contains_any")
    rows.last.locator("input[name=cond_value]").fill("refund, החזר")
    rows.first.locator("[data-remove]").click()  # and removes one
    assert rows.count() == before
    action = page.locator("[data-rows=action] [data-row]").first
    action.locator("select[name=act_type]").select_option("set_priority")
    assert "priority" in action.locator("[data-hint]").inner_text()
    action.locator("input[name=act_value]").fill("urgent")
    page.click("button[formaction='/app/admin/automations/dry-run']")
    page.locator("#dry-run-result").wait_for(timeout=WAIT)
    assert page.locator("input[name=cond_value][value='refund, החזר']").count() == 1
    page.click("#automation-builder button.primary")
    _notice(page, "Automation saved.")
    assert page.locator("input[name=cond_value][value='refund, החזר']").count() == 1
    page.set_viewport_size(SIZES["390"])
    page.locator("#automation-builder").scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    screenshot(page, "admin-automation-builder-390")
    page.context.close()


def test_surveys_quiet_hours_and_nps_schedule_in_hebrew_on_a_phone(server, browser):
    context = browser.new_context(viewport=SIZES["1280"], locale="he-IL")
    page = context.new_page()
    sign_in(page, server.url)
    page.select_option("#language-select", "he")  # in the header at 1280 px (in the menu on a phone)
    page.wait_for_function("document.documentElement?.dir === 'rtl'", timeout=WAIT)
    page.set_viewport_size(SIZES["390"])
    page.goto(f"{server.url}/app/admin/surveys")
    quiet = page.locator("section[aria-labelledby=quiet-hours] form")
    quiet.locator("input[name=quiet_start]").fill("21:00")
    quiet.locator("input[name=quiet_end]").fill("08:00")
    quiet.locator("button[type=submit]").click()
    page.locator(".notice").wait_for(timeout=WAIT)
    assert page.locator("input[name=quiet_start]").input_value() == "21:00"
    page.locator("#survey-nps > summary").click()
    nps = page.locator("#survey-nps form")
    nps.locator("input[name=enabled]").check()
    nps.locator("input[name=schedule_days]").fill("90")
    nps.locator("input[name=template_scores]").fill("10, 5, 0")
    nps.locator("input[name=template_name]").fill("nps_check")
    nps.locator("button[type=submit]").click()
    page.locator(".notice").wait_for(timeout=WAIT)
    page.locator("#survey-nps > summary").click()
    assert page.locator("#survey-nps input[name=schedule_days]").input_value() == "90"
    assert page.locator("#survey-nps .svc-badge.on").count() == 1
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    page.locator("#survey-nps").scroll_into_view_if_needed()
    screenshot(page, "admin-surveys-he-390")
    context.close()


@pytest.mark.parametrize("language", ["en", "he"])
def test_every_screen_fits_a_phone_and_passes_axe_in_both_directions(server, browser, language):
    context = browser.new_context(viewport=SIZES["1280"], locale="he-IL" if language == "he" else "en-US")
    page = context.new_page()
    sign_in(page, server.url)
    # The admin's language is saved on their account and the module's tests share the admin: choose it
    # either way (the surveys test before this one leaves it Hebrew).
    page.select_option("#language-select", language)
    direction = "rtl" if language == "he" else "ltr"
    page.wait_for_function(f"document.documentElement?.dir === '{direction}'", timeout=WAIT)
    report = {}
    for name in SCREENS:
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            page.goto(f"{server.url}/app/admin/{name}")
            settle(page)
            assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if overflow > 0:
                report[f"{name}@{size} overflow"] = overflow
            findings = axe_findings(page)
            if findings:
                report[f"{name}@{size}"] = findings
            page.locator("#main").scroll_into_view_if_needed()
            screenshot(page, f"admin-{name}-{language}-{size}")
    assert not report, json.dumps(report, indent=1, ensure_ascii=False)
    context.close()
