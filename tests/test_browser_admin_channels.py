"""In headless Chromium against a real `threadline serve`: an admin creates a web chat channel through
/app/admin/channels, the widget editor's live preview renders the real chat frame and follows unsaved edits,
and the install snippet's Copy button puts the snippet on the clipboard; at 1280 px and at 390 px (where nothing
scrolls sideways). Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import pytest

from threadline.testing.server import migrated_copy
from threadline.web.testkit import launch, screenshot, sign_in, threadline_server

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
WAIT = 15_000


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("admin-channels") / "data"
    with migrated_copy(request.config, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        yield proc


@pytest.mark.parametrize("width", [1280, 390])
def test_widget_editor_preview_and_snippet(server, width):
    with playwright.sync_playwright() as driver:
        browser = launch(driver)
        try:
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

            page.click('button[data-copy="snippet"]')
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied == snippet
            if width == 390:
                overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 390px"
            page.locator("#widget-preview").scroll_into_view_if_needed()
            screenshot(page, f"admin-channels-webchat-{width}")
        finally:
            browser.close()


def test_channel_list_right_to_left_on_a_phone(server):
    server.python_json_command("channel", "create-api", "--name", "מערכת ההזמנות")
    server.shell("from threadline.tenancy.models import User; "
                 "User.objects.filter(email='ada@acme.example').update(language='he')")
    try:
        with playwright.sync_playwright() as driver:
            browser = launch(driver)
            try:
                page = browser.new_context(viewport={"width": 390, "height": 844}, locale="he-IL").new_page()
                sign_in(page, server.url)
                page.goto(f"{server.url}/app/admin/channels")
                assert page.locator("html").get_attribute("dir") == "rtl"
                assert page.locator("table.ch-list tbody tr").count() >= 1
                overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert overflow <= 0, f"the list scrolls sideways by {overflow}px at 390px"
                page.locator("table.ch-list").scroll_into_view_if_needed()
                screenshot(page, "admin-channels-list-390-rtl")
                page.locator("table.ch-list a").first.click()
                page.locator(".ch-status").wait_for(timeout=WAIT)
                overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert overflow <= 0, f"the channel page scrolls sideways by {overflow}px at 390px"
                page.locator(".ch-status").scroll_into_view_if_needed()
                screenshot(page, "admin-channel-390-rtl")
            finally:
                browser.close()
    finally:
        server.shell("from threadline.tenancy.models import User; "
                     "User.objects.filter(email='ada@acme.example').update(language='en')")
