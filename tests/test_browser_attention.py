"""In headless Chromium against a real `threadline serve`: the "Needs attention" screen at phone width
(390 px) and right to left (Hebrew), with a payload that could not be stored, replayed and dismissed with
its buttons (issue 9 item 1). Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from threadline.testing.server import migrated_copy, sign
from threadline.web.testkit import ADMIN_EMAIL, screenshot, sign_in, threadline_server

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
WAIT = 15_000


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("attention") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        yield proc


def wait_for(server, expected, timeout: float = 20.0):
    """Poll the inbound events' [state, replays] (straight from the database: no Django start per poll)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = [list(row) for row in server.query(STATE)]
        if value == expected:
            return value
        time.sleep(0.1)
    raise AssertionError(f"the inbound events never were {expected!r} (last {value!r})")


STATE = "SELECT state, replays FROM tl_channels_inboundevent ORDER BY id"


def post_failing(server, channel: dict, message_id: str) -> None:
    """A signed API channel message from a sender whose address is no email address: accepted, then failed."""
    document = {"message_id": message_id, "text": "שלום " * 200,
                "sender": {"kind": "email", "address": "not an address at all"},
                "metadata": {"order": message_id, "note": "x" * 3000}}
    body = json.dumps(document, ensure_ascii=False).encode()
    answer = httpx.post(f"{server.url}/hooks/api/{channel['id']}/", content=body, headers={
        "X-Threadline-Signature": sign(channel["secret"], body), "Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text


def test_needs_attention_on_a_phone_right_to_left(server, browser):
    channel = server.python_json_command("channel", "create-api", "--name", "Shop backend")
    post_failing(server, channel, "order-77")
    wait_for(server, [["failed", 0]])
    server.shell("from threadline.tenancy.models import User; "
                 f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language='he')")

    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="he-IL").new_page()
    sign_in(page, server.url)
    count = page.locator('a[href="/app/attention"] .count')
    assert count.inner_text() == "1"
    page.goto(f"{server.url}/app/attention")
    assert page.locator("html").get_attribute("dir") == "rtl"
    item = page.locator(".attention-item")
    assert "not an address at all" in item.locator(".error").inner_text()
    item.locator("summary").click()
    assert item.locator("pre.payload").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 390px"
    replay = item.locator("form[action$='/replay'] button")
    box = replay.bounding_box()
    assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= 390
    screenshot(page, "needs-attention-390-rtl")

    replay.click()
    page.wait_for_url(f"{server.url}/app/attention?done=received", timeout=WAIT)
    wait_for(server, [["failed", 1]])  # the address is still invalid: back on the list
    page.goto(f"{server.url}/app/attention")
    page.locator(".attention-item form[action$='/dismiss'] button").click()
    page.wait_for_url(f"{server.url}/app/attention?done=ignored", timeout=WAIT)
    assert page.locator(".attention-item").count() == 0
    wait_for(server, [["ignored", 1]])

    page.goto(f"{server.url}/app/")  # nothing needs attention: no entry; a new failure shows it live
    assert page.locator("#attention-nav").is_hidden()
    post_failing(server, channel, "order-78")
    page.locator("#views-link").click()  # on a phone the views (and this entry) are a screen of their own
    page.locator("#attention-nav").wait_for(state="visible", timeout=WAIT)
    assert page.locator("#attention-count").inner_text() == "1"
