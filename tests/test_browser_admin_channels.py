"""In headless Chromium against a real `threadline serve`: an admin creates a web chat channel through
/app/admin/channels, the widget editor's live preview renders the real chat frame and follows unsaved edits,
and the install snippet's Copy button puts the snippet on the clipboard; at 1280 px and at 390 px (where nothing
scrolls sideways); a channel's "last event received" follows a payload accepted while its page is open.
Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import json

import httpx
import pytest

from threadline.testing.server import migrated_copy, sign
from threadline.web.testkit import axe_findings, screenshot, settle, sign_in, threadline_server

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
WAIT = 15_000


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("admin-channels") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        yield proc


@pytest.mark.parametrize("width", [1280, 390])
def test_widget_editor_preview_and_snippet(server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    sign_in(page, server.url)
    page.goto(f"{server.url}/app/admin/channels/new")
    page.click('a[href="/app/admin/channels/new/webchat"]')
    page.fill("#f-name", f"Website {width}")
    page.click("form.ch-form button[type=submit]")
    once = page.locator(".ch-once")
    once.wait_for(timeout=WAIT)  # the identity-verification secret, shown this once
    snippet = page.locator("#snippet").inner_text()
    assert "/widget.js" in snippet and "data-channel=" in snippet

    frame = page.frame_locator("#widget-preview")
    frame.locator("html[data-preview=ready]").wait_for(timeout=WAIT)
    assert frame.locator("h1").inner_text()  # the workspace's name until a title is set
    page.fill("#f-title", "Acme live help")
    page.fill("#f-greetings", "en: Hello from the editor")
    frame.locator("h1", has_text="Acme live help").wait_for(timeout=WAIT)
    frame.locator(".greeting", has_text="Hello from the editor").wait_for(timeout=WAIT)
    page.check("#preview-offline")
    frame.locator("#availability", has_text="No one is online").wait_for(timeout=WAIT)

    page.select_option("#f-prechat", "required")
    page.uncheck('input[name="prechat_fields"][value="email"]')
    page.uncheck("#preview-offline")
    frame.locator("#availability", has_text="online and reply").wait_for(timeout=WAIT)
    frame.locator("#details input[name=email]").wait_for(state="hidden", timeout=WAIT)
    assert frame.locator("#details input[name=name]").is_visible()  # only the name is asked

    page.select_option("#f-prechat", "off")
    page.select_option("#f-offline", "message")
    page.fill("#f-offline_message", "Back at nine")
    page.check("#preview-offline")
    frame.locator("#availability", has_text="Back at nine").wait_for(timeout=WAIT)
    frame.locator("#details").wait_for(state="hidden", timeout=WAIT)  # "message": no email asked

    page.click('button[data-copy="snippet"]')
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == snippet
    if width == 390:
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 390px"
    page.locator("#widget-preview").scroll_into_view_if_needed()
    screenshot(page, f"admin-channels-webchat-{width}")


def test_last_event_received_is_live_on_the_channels_page(server, browser):
    """The indicator polls the channel's status every 15 s: a payload accepted while the page is open shows up
    without a reload (the page's clock is run forward instead of waiting)."""
    channel = server.python_json_command("channel", "create-api", "--name", "Live indicator")
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    sign_in(page, server.url)
    page.clock.install()
    page.goto(f"{server.url}/app/admin/channels/{channel['id']}")
    indicator = page.locator("#last-event [data-last-event]")
    assert indicator.inner_text() == "Nothing received yet"
    body = json.dumps({"message_id": "live-1", "text": "Hello",
                       "sender": {"kind": "external", "address": "customer-live-1"}}).encode()
    answer = httpx.post(f"{server.url}/hooks/api/{channel['id']}/", content=body, headers={
        "X-Threadline-Signature": sign(channel["secret"], body), "Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text
    page.clock.run_for(16_000)
    page.locator("#last-event time[data-last-event]").wait_for(timeout=WAIT)
    assert indicator.inner_text() != "Nothing received yet"
    screenshot(page, "admin-channels-last-event-live")


CHANNEL_SCREENS = ("", "/new", "/new/email", "/new/whatsapp", "/{webchat}", "/{api}", "/{api}/disable")


@pytest.mark.parametrize("language", ["en", "he"])
def test_channel_screens_fit_a_phone_and_pass_axe_in_both_directions(server, browser, language):
    ids = {"api": server.python_json_command("channel", "create-api", "--name", "מערכת ההזמנות")["id"],
           "webchat": server.python_json_command("channel", "create", "webchat", "--name", "Site chat")["id"]}
    server.shell("from threadline.tenancy.models import User; "
                 f"User.objects.filter(email='ada@acme.example').update(language={language!r})")
    report: dict[str, object] = {}
    try:
        page = browser.new_context(viewport={"width": 390, "height": 844},
                                   locale="he-IL" if language == "he" else "en-US").new_page()
        sign_in(page, server.url)
        for screen in CHANNEL_SCREENS:
            page.goto(f"{server.url}/app/admin/channels{screen.format(**ids)}")
            settle(page)
            assert page.locator("html").get_attribute("dir") == ("rtl" if language == "he" else "ltr")
            overflow = page.evaluate("document.documentElement.scrollWidth - "
                                     "document.documentElement.clientWidth")
            if overflow > 0:
                report[f"{screen or '/'} overflow"] = overflow
            findings = axe_findings(page)
            if findings:
                report[screen or "/"] = findings
            page.locator("#main").scroll_into_view_if_needed()
            name = screen.format(api="api", webchat="webchat").strip("/").replace("/", "-") or "list"
            screenshot(page, f"admin-channels-{name}-{language}-390")
    finally:
        server.shell("from threadline.tenancy.models import User; "
                     "User.objects.filter(email='ada@acme.example').update(language='en')")
    assert not report, json.dumps(report, indent=1, ensure_ascii=False)
