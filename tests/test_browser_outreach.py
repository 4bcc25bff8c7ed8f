"""Proactive chat messages in Chromium (Debian's) against `threadline serve`: on a customer's site embedding the
widget, a rule on the page address shows its message at once, a rule on time on page after its seconds, and the
page's own `Threadline.proactive("name")` call shows its rule's message; a Hebrew visitor reads it in Hebrew, right
to left; a click on the message opens the chat."""

from __future__ import annotations

import pytest

from threadline.testing.server import migrated_copy
from threadline.web.testkit import ShopSite, screenshot, set_up_workspace, threadline_server

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
WAIT = 15_000

RULES = """
import json
from django.db import transaction
from threadline.outreach.actions import do_save_proactive_rule
from threadline.tenancy.models import Membership
admin = Membership.objects.select_related("workspace", "user").get(user__email="ada@acme.example")
with transaction.atomic():
    do_save_proactive_rule(admin, None, name="Pricing", trigger="url", url_pattern="*/pricing*", seconds=0,
                           call_name="", messages={"en": "Questions about our plans?", "he": "שאלות על התוכניות?"})
    do_save_proactive_rule(admin, None, name="Lingering", trigger="time", url_pattern="", seconds=2, call_name="",
                           messages={"en": "Still looking? We can help."})
    do_save_proactive_rule(admin, None, name="Checkout", trigger="call", url_pattern="", seconds=0,
                           call_name="checkout_failed", messages={"en": "Trouble paying? Write to us."})
print(json.dumps(True))
"""


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser-outreach") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        proc.workspace = set_up_workspace(proc)
        proc.python(RULES)
        yield proc


@pytest.fixture
def shop(server):
    site = ShopSite(server.url, server.workspace["channel_id"]).start()
    yield site
    site.stop()


def bubble_text(page) -> str:
    page.locator("#threadline-proactive").wait_for(timeout=WAIT)
    return page.locator("#threadline-proactive .threadline-proactive-text").inner_text()


def test_rules_on_the_address_time_and_a_call_show_their_message(browser, shop):
    visitor = browser.new_context(locale="en-US")
    page = visitor.new_page()
    page.goto(shop.url + "pricing")
    assert bubble_text(page) == "Questions about our plans?"
    assert page.locator("#threadline-proactive").get_attribute("dir") == "ltr"
    screenshot(page, "widget-proactive-en")
    page.click("#threadline-proactive .threadline-proactive-text")  # a click opens the chat
    page.locator("#threadline-frame").wait_for(state="visible", timeout=WAIT)
    assert page.locator("#threadline-proactive").count() == 0

    other = visitor.new_page()
    other.goto(shop.url + "about")
    other.locator("#threadline-launcher").wait_for(timeout=WAIT)
    assert other.locator("#threadline-proactive").count() == 0  # no address rule here, and not 2 s yet
    assert bubble_text(other) == "Still looking? We can help."  # after two seconds on the page
    other.click("#threadline-proactive button")  # dismissed
    assert other.locator("#threadline-proactive").count() == 0
    other.evaluate("Threadline.proactive('checkout_failed')")  # the page's own call
    other.locator("#threadline-proactive", has_text="Trouble paying?").wait_for(timeout=WAIT)
    other.click("#threadline-proactive button")
    other.evaluate("Threadline.proactive('checkout_failed')")  # once per page
    other.wait_for_timeout(300)
    assert other.locator("#threadline-proactive").count() == 0
    visitor.close()


def test_a_hebrew_visitor_reads_the_message_in_hebrew_right_to_left_on_a_phone(browser, shop):
    visitor = browser.new_context(locale="he-IL", viewport={"width": 375, "height": 740})
    page = visitor.new_page()
    page.goto(shop.url + "pricing/gold")
    assert bubble_text(page) == "שאלות על התוכניות?"
    bubble = page.locator("#threadline-proactive")
    assert bubble.get_attribute("dir") == "rtl" and bubble.get_attribute("lang") == "he"
    assert page.locator("#threadline-proactive button").get_attribute("aria-label") == "דחייה"  # "Dismiss"
    box = bubble.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    screenshot(page, "widget-proactive-he")
    visitor.close()
