"""The workspace on any screen, in headless Chromium (Debian's package) against a real `threadline serve`:
stacked screens on a phone (list → conversation → customer, and the browser's back button), the contact
panel folded and remembered on a laptop, "/" canned replies in the composer, files dropped on the composer, send
later and snooze presets, the browser's language and time zone taken at the first sign-in only, and axe-core (from the
axe-playwright-python package) reporting no critical or serious violation on the inbox, a conversation,
search and settings, in English and Hebrew. Screenshots at 390×844 and 1280×800 in test-artifacts/."""

from __future__ import annotations

import json

import pytest

from threadline.testing.server import migrated_copy
from threadline.web.testkit import (
    ShopSite,
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
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}

SEED = """
import json
from django.db import transaction
from threadline.channels.actions import do_create_channel
from threadline.channels.base import InboundMessage
from threadline.conversations.actions import receive_inbound_message
from threadline.replies.actions import do_save_template
from threadline.tenancy.models import Membership
admin = Membership.objects.select_related("workspace").get(user__email="ada@acme.example")
with transaction.atomic():
    api = do_create_channel(admin, "api", "Shop backend", {"webhook_url": "http://127.0.0.1:9/hook"})
    do_save_template(admin.workspace, None, name="Refund policy", kind="canned", shortcut="refund",
                     variants=[{"language": "en", "text": "Hi {{ contact.name }}, refunds take five days."}])
ids = []
for n, (name, text) in enumerate([("Dana Levi", "Where is my refund?"), ("נועה כהן", "איפה ההזמנה שלי?"),
                                  ("สมชาย ใจดี", "สินค้ายังไม่มาถึงครับ ช่วยตรวจสอบให้หน่อย"),
                                  ("Dana Levi", "Old order 1234"), ("Ruth Stone", "Gift wrapping?")]):
    with transaction.atomic():
        message = receive_inbound_message(api, InboundMessage(
            provider_message_id=f"seed-{n}", sender_kind="external", sender_address=f"c{n}@example.com",
            sender_name=name, text=text, subject=text))
    ids.append(message.conversation_id)
print(json.dumps({"conversations": ids}))
"""


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser-ui") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        proc.workspace = set_up_workspace(proc)
        proc.seed = proc.python(SEED)
        yield proc


def test_on_a_phone_list_conversation_and_customer_are_stacked_screens_with_back(server, browser):
    context = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, server.url)
    assert page.locator("#list-pane").is_visible()
    assert not page.locator("#views-nav").is_visible() and not page.locator("#conversation-pane").is_visible()
    screenshot(page, "phone-1-list")

    page.locator(".row", has_text="Where is my refund").locator(".row-link").click()
    page.locator("#timeline .message.in", has_text="Where is my refund").wait_for(timeout=WAIT)
    assert page.locator("#conversation-pane").is_visible() and not page.locator("#list-pane").is_visible()
    assert not page.locator("#contact-panel").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    screenshot(page, "phone-2-conversation")

    page.click("#panel-toggle")
    page.locator("#contact-panel").wait_for(state="visible")
    assert page.url.endswith("#customer")
    assert not page.locator("#timeline").is_visible()
    screenshot(page, "phone-3-customer")

    page.go_back()  # the browser's own back: customer → conversation
    page.locator("#timeline").wait_for(state="visible")
    assert not page.locator("#contact-panel").is_visible()
    page.go_back()  # conversation → list
    page.locator("#list-pane").wait_for(state="visible")
    assert page.url.rstrip("/").endswith("/app") or "/app/?" in page.url or page.url.endswith("/app/")
    page.go_forward()
    page.locator("#timeline").wait_for(state="visible")
    page.locator("#conversation .back-link").first.click()  # the page's own back link
    page.locator("#list-pane").wait_for(state="visible")

    page.click("#views-link")
    page.locator("#views-nav").wait_for(state="visible")
    page.locator("#views-nav a", has_text="Mine").click()
    page.locator("#list-pane").wait_for(state="visible")
    screenshot(page, "phone-4-views")
    context.close()


def toggle_panel(page) -> None:
    """Fold or open the contact panel and wait until the server has saved the choice (an async POST)."""
    with page.expect_response(lambda response: response.url.endswith("/app/x/ui"), timeout=WAIT) as saved:
        page.click("#panel-toggle")
    assert saved.value.ok, saved.value.status


def test_on_a_laptop_the_contact_panel_folds_and_stays_folded(server, browser):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-US")
    page = context.new_page()
    sign_in(page, server.url)
    page.locator(".row", has_text="Where is my refund").locator(".row-link").click()
    panel = page.locator("#contact-panel")
    panel.wait_for(state="visible")
    toggle_panel(page)
    panel.wait_for(state="hidden")
    assert page.get_attribute("#panel-toggle", "aria-expanded") == "false"
    page.reload()  # remembered for this person
    page.locator("#timeline").wait_for()
    assert not panel.is_visible()
    toggle_panel(page)  # open again, and saved before the context closes: the next tests share this person
    panel.wait_for(state="visible")
    page.set_viewport_size(LAPTOP)
    screenshot(page, "laptop-conversation")
    context.close()


def test_the_contact_panel_refreshes_after_not_the_same_merge_and_unmerge(server, browser):
    context = browser.new_context(viewport=LAPTOP, locale="en-US")
    page = context.new_page()
    sign_in(page, server.url)
    page.goto(f"{server.url}/app/c/{server.seed['conversations'][0]}/")
    page.evaluate("window.__notReloaded = true")
    panel = page.locator("#contact-panel")
    suggestion = panel.locator(".suggestions > li")
    suggestion.wait_for()
    assert "c3@example.com" in suggestion.inner_text()  # the candidate's identity, last conversation and why
    assert "Old order 1234" in suggestion.inner_text()
    suggestion.locator("button", has_text="Not the same").click()
    suggestion.wait_for(state="detached", timeout=WAIT)

    panel.locator("summary", has_text="Merge another customer").click()
    panel.locator(".merge-search-form input").fill("c4@")
    candidate = panel.locator("#merge-results .candidate", has_text="Ruth Stone")
    candidate.wait_for(timeout=WAIT)
    screenshot(page, "panel-merge-search")
    candidate.locator("button").click()
    panel.locator(".identities", has_text="c4@example.com").first.wait_for(timeout=WAIT)
    panel.locator(".merges button", has_text="Unmerge").click()
    panel.locator(".merges").wait_for(state="detached", timeout=WAIT)
    assert "c4@example.com" not in panel.locator(".identities").first.inner_text()
    assert page.evaluate("window.__notReloaded") is True
    context.close()


def test_slash_lists_canned_replies_and_inserts_the_rendered_body(server, browser):
    context = browser.new_context(viewport=LAPTOP, locale="en-US")
    page = context.new_page()
    sign_in(page, server.url)
    page.locator(".row", has_text="Where is my refund").locator(".row-link").click()
    composer = page.locator("#composer")
    composer.wait_for()
    assert not page.locator("#send-button").is_visible()  # collapsed until used
    page.click("#composer-text")
    page.locator("#send-button").wait_for(state="visible")
    assert page.locator("label.attach").inner_text().strip() == "Attach files"
    page.keyboard.type("Thanks for waiting. /ref")
    option = page.locator("#mention-menu li", has_text="/refund")
    option.wait_for(timeout=WAIT)
    screenshot(page, "composer-slash-menu")
    page.keyboard.press("Enter")
    playwright.expect(page.locator("#composer-text")).to_have_value(
        "Thanks for waiting. Hi Dana Levi, refunds take five days.", timeout=WAIT)

    # an image pasted into the composer becomes an attachment
    page.evaluate("""() => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array([137, 80, 78, 71])], "image.png", { type: "image/png" }));
      document.querySelector('#composer-text').dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
    }""")
    page.locator("#composer-files-list li", has_text="pasted-").wait_for(timeout=WAIT)
    assert page.evaluate("document.querySelector('#composer-files').files.length") == 1
    context.close()


def test_a_dropped_file_opens_the_composer_send_later_lists_the_reply_and_snooze_presets(server, browser):
    context = browser.new_context(viewport=LAPTOP, locale="en-US")
    page = context.new_page()
    sign_in(page, server.url)
    conversation = server.seed["conversations"][2]
    page.goto(f"{server.url}/app/c/{conversation}/")
    page.locator("#composer").wait_for()
    assert not page.locator("#send-button").is_visible()  # collapsed until used
    page.evaluate("""() => {
      const data = new DataTransfer();
      data.items.add(new File(["%PDF-1.4"], "invoice.pdf", { type: "application/pdf" }));
      const form = document.querySelector('#composer');
      form.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      form.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }""")
    page.locator("#send-button").wait_for(state="visible", timeout=WAIT)  # the drop opened it
    page.locator("#composer-files-list li", has_text="invoice.pdf").wait_for(timeout=WAIT)
    assert page.evaluate("document.querySelector('#composer-files').files.length") == 1
    screenshot(page, "composer-dropped-file")

    page.fill("#composer-text", "We will check with the courier tomorrow")
    page.click("#send-later summary")
    page.click("button[data-send-at=tomorrow]")
    scheduled = page.locator("#scheduled li", has_text="We will check with the courier tomorrow")
    scheduled.wait_for(timeout=WAIT)
    assert page.locator("#composer-text").input_value() == ""
    screenshot(page, "composer-scheduled")
    scheduled.locator(".cancel-scheduled button").click()
    page.locator("#scheduled").wait_for(state="detached", timeout=WAIT)

    page.click(".more-actions summary")
    page.click("#snooze-presets button[value=tomorrow]")
    playwright.expect(page.locator("#status-select")).to_have_value("pending", timeout=WAIT)  # snoozed
    context.close()


def test_language_and_time_zone_come_from_the_browser_at_the_first_sign_in_only(server, browser):
    """Bob was created with the defaults (English, UTC): his first sign-in, from a Hebrew browser in Jerusalem,
    takes both; a later sign-in from another browser changes neither."""
    who = ("import json; from threadline.tenancy.models import User; u = User.objects.get(email='bob@acme.example'); "
           "print(json.dumps([u.language, u.time_zone]))")
    assert server.python(who) == ["en", "UTC"]
    first = browser.new_context(viewport=PHONE, locale="he-IL", timezone_id="Asia/Jerusalem")
    page = first.new_page()
    sign_in(page, server.url, "bob@acme.example")
    page.wait_for_function("(document.documentElement?.lang ?? '').startsWith('he') && document.documentElement?.dir === 'rtl'",
                           timeout=WAIT)
    for _ in range(100):
        if server.python(who) == ["he", "Asia/Jerusalem"]:
            break
        page.wait_for_timeout(200)
    assert server.python(who) == ["he", "Asia/Jerusalem"]
    settle(page)  # the page reloads once the defaults are taken: a screenshot of a page mid-reload fails
    screenshot(page, "first-sign-in-browser-defaults-he-390")
    first.close()

    later = browser.new_context(viewport=LAPTOP, locale="en-US", timezone_id="America/New_York")
    page = later.new_page()
    sign_in(page, server.url, "bob@acme.example")
    page.locator("#list-pane").wait_for(timeout=WAIT)
    settle(page)
    assert page.evaluate("document.documentElement.lang").startswith("he")
    assert server.python(who) == ["he", "Asia/Jerusalem"]
    later.close()


def test_the_chat_widget_takes_the_whole_phone_screen(server, browser):
    shop = ShopSite(server.url, server.workspace["channel_id"]).start()
    try:
        context = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
        page = context.new_page()
        page.goto(shop.url)
        page.click("#threadline-launcher")
        page.frame_locator("#threadline-frame").locator("#text").wait_for(timeout=WAIT)
        box = page.locator("#threadline-frame").bounding_box()
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, PHONE["width"], PHONE["height"])
        assert not page.locator("#threadline-launcher").is_visible()  # the chat's own header closes it
        screenshot(page, "widget-phone")
        page.frame_locator("#threadline-frame").locator("#close").click()
        page.locator("#threadline-launcher").wait_for(state="visible")
        page.set_viewport_size(LAPTOP)
        page.click("#threadline-launcher")
        box = page.locator("#threadline-frame").bounding_box()
        assert box["width"] == 370 and box["x"] > LAPTOP["width"] / 2  # a panel beside the launcher
        context.close()
    finally:
        shop.stop()


@pytest.mark.parametrize("language", ["en", "he"])
def test_axe_finds_no_critical_or_serious_violation(server, browser, language):
    context = browser.new_context(viewport=LAPTOP, locale="he-IL" if language == "he" else "en-US")
    page = context.new_page()
    sign_in(page, server.url)
    if language == "he":
        page.select_option("#language-select", "he")
        page.wait_for_function("document.documentElement?.dir === 'rtl'", timeout=WAIT)
    conversation = server.seed["conversations"][0]
    screens = {"inbox": "/app/", "conversation": f"/app/c/{conversation}/", "search": "/app/search?q=refund",
               "settings": "/app/settings"}
    report = {}
    for name, path in screens.items():
        for size, viewport in (("1280", LAPTOP), ("390", PHONE)):
            page.set_viewport_size(viewport)
            page.goto(f"{server.url}{path}")
            settle(page)
            findings = axe_findings(page)
            if findings:
                report[f"{name}@{size}"] = findings
            screenshot(page, f"axe-{language}-{name}-{size}")
    assert not report, json.dumps(report, indent=1, ensure_ascii=False)

    # the notification toast sits centred at the bottom, in either direction
    for viewport in (LAPTOP, PHONE):
        page.set_viewport_size(viewport)
        page.goto(f"{server.url}/app/")
        settle(page)  # the socket is open (its state line hidden again)
        box = page.evaluate("() => { const t = document.querySelector('#connection'); t.textContent = 'שלום · hello'; "
                            "t.hidden = false; const r = t.getBoundingClientRect(); "
                            "return {x: r.x, y: r.y, width: r.width, height: r.height}; }")
        middle = box["x"] + box["width"] / 2
        assert abs(middle - viewport["width"] / 2) < 2 and box["x"] >= 0
        assert box["x"] + box["width"] <= viewport["width"]
        assert viewport["height"] - (box["y"] + box["height"]) < 40
    context.close()
