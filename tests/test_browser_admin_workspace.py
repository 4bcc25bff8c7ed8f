"""In headless Chromium against a real `threadline serve`: the workspace, brands, API tokens, webhooks, retention
and redaction, canned replies and message templates screens at phone width (390 px) and at 1280 px, in Hebrew
(right to left) and English: nothing wider than the window, the workspace's name in the header, and a canned
reply with a /shortcut and a token made with the forms. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import pytest

from threadline.testing.server import migrated_copy
from threadline.web.testkit import ADMIN_EMAIL, screenshot, sign_in, threadline_server

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
SCREENS = ("workspace", "brands", "tokens", "webhooks", "privacy", "replies", "templates")
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("adminworkspace") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        yield proc


@pytest.mark.parametrize(("language", "width", "height"), [("he", 390, 844), ("en", 1280, 800)])
def test_the_screens_fit_the_window_in_both_directions(server, browser, language, width, height):
    server.shell("from threadline.tenancy.models import User; "
                 f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language={language!r})")
    page = browser.new_page(viewport={"width": width, "height": height})
    sign_in(page, server.url)
    for name in SCREENS:
        page.goto(f"{server.url}/app/admin/{name}")
        assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
        assert page.locator(".admin-top .workspace-switcher").is_visible()
        for details in page.locator("details.admin-add").all():  # the add forms, open
            details.evaluate("d => d.open = true")
        assert page.evaluate(OVERFLOW) <= 0, f"{name} is wider than {width}px"
        screenshot(page, f"admin-{name}-{language}-{width}")


def test_a_canned_reply_and_a_token_made_in_the_browser(server, browser):
    server.shell("from threadline.tenancy.models import User; "
                 f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language='he')")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(page, server.url)
    page.goto(f"{server.url}/app/admin/replies")
    page.locator("#canned details.admin-add summary").click()
    form = page.locator("#canned form")
    form.locator("input[name=name]").fill("מדיניות החזרים")
    form.locator("input[name=shortcut]").fill("refund")
    form.locator("textarea[name=text_0]").fill("שלום {{contact.first_name}}, ההחזר יגיע תוך 5 ימים.")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#canned table code", has_text="/refund").is_visible()
    screenshot(page, "admin-replies-created-he-390")
    page.goto(f"{server.url}/app/admin/tokens")
    page.locator("details.admin-add summary").click()
    page.locator("details.admin-add input[name=name]").fill("CRM")
    page.locator("details.admin-add button[type=submit]").click()
    raw = page.locator("#new-token").inner_text()
    assert raw.startswith("tl_")
    page.goto(f"{server.url}/app/admin/tokens")
    assert raw not in page.content() and raw[:10] in page.content()


def test_the_workspace_switcher_in_the_inbox_header_on_a_phone(server, browser):
    server.shell("from django.db import transaction\n"
                 "from threadline.tenancy.actions import do_add_agent, do_create_workspace\n"
                 "from threadline.tenancy.models import Role, User\n"
                 f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language='he')\n"
                 "with transaction.atomic():\n"
                 "    do_add_agent(do_create_workspace('חנות הגן'), " + repr(ADMIN_EMAIL) + ", role=Role.ADMIN)")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(page, server.url)
    switcher = page.locator(".topbar .workspace-switcher select")
    assert switcher.is_visible()
    screenshot(page, "inbox-workspace-switcher-he-390")
    switcher.select_option(label="חנות הגן")
    page.locator(".topbar .workspace-switcher button[type=submit]").click()
    page.wait_for_url(f"{server.url}/app/")
    assert page.locator(".topbar .workspace-switcher select option:checked").inner_text() == "חנות הגן"
