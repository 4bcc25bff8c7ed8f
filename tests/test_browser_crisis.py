"""In headless Chromium against a real `threadline serve`: the public triage settings screen, the crisis list
and a crisis room (with its holding reply, notice and close forms), in English and in Hebrew (right to left),
at 1280 px and at 390 px: nothing scrolls sideways and axe-core reports no critical or serious violation; an
admin switches the notice on in the room and it shows. Screenshots in test-artifacts/."""

from __future__ import annotations

import json

import pytest

from threadline.testing.server import migrated_copy
from threadline.web.testkit import (
    ADMIN_EMAIL,
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
OPEN_CRISIS = """
import json
from django.db import transaction
from threadline.crisis.actions import do_open_crisis
from threadline.tenancy.models import Membership
admin = Membership.objects.select_related("workspace", "user").get(user__email={admin!r})
with transaction.atomic():
    crisis = do_open_crisis(admin, "delivery")
print(json.dumps(crisis.pk))
"""


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("crisis") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        set_up_workspace(proc)
        proc.crisis_id = proc.python(OPEN_CRISIS.format(admin=ADMIN_EMAIL))
        yield proc


def test_an_admin_shows_a_notice_from_the_crisis_room(server, browser):
    page = browser.new_context(viewport=SIZES["390"]).new_page()
    sign_in(page, server.url)
    page.goto(f"{server.url}/app/crisis/{server.crisis_id}")
    form = page.locator(f"form[action='/app/crisis/{server.crisis_id}/notice']")
    form.locator("input[name=text_en]").fill("Deliveries are late today.")
    form.locator("input[name=active]").check()
    form.locator("button[type=submit]").click()
    page.locator(".notice").wait_for(timeout=WAIT)
    assert page.locator("input[name=text_en]").input_value() == "Deliveries are late today."
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    screenshot(page, "crisis-room-390")
    page.context.close()


@pytest.mark.parametrize("language", ["en", "he"])
def test_the_triage_and_crisis_screens_fit_a_phone_and_pass_axe(server, browser, language):
    context = browser.new_context(viewport=SIZES["1280"], locale="he-IL" if language == "he" else "en-US")
    page = context.new_page()
    sign_in(page, server.url)
    page.select_option("#language-select", language)
    direction = "rtl" if language == "he" else "ltr"
    page.wait_for_function(f"document.documentElement?.dir === '{direction}'", timeout=WAIT)
    report = {}
    for name in ("admin/triage", "crisis", f"crisis/{server.crisis_id}"):
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            page.goto(f"{server.url}/app/{name}")
            settle(page)
            assert page.evaluate("document.documentElement.dir") == direction
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if overflow > 0:
                report[f"{name}@{size} overflow"] = overflow
            findings = axe_findings(page)
            if findings:
                report[f"{name}@{size}"] = findings
            screenshot(page, f"{name.replace('/', '-')}-{language}-{size}")
    assert not report, json.dumps(report, indent=1, ensure_ascii=False)
    context.close()
