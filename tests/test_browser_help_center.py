"""The public help center in headless Chromium at 390 px, in Hebrew, against a real `threadline serve`: the
help center's address picks Hebrew from the browser, the visitor browses home → category → article, searches
(the matched word marked), answers "No" with a comment and an address (a conversation through the portal
channel) and writes through "contact us". Right-to-left, nothing wider than the phone, no critical or serious
axe-core finding. Screenshots in test-artifacts/."""

from __future__ import annotations

import pytest

from threadline.testing.server import migrated_copy
from threadline.web.testkit import axe_findings, screenshot, threadline_server

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
WAIT = 20_000
PHONE = {"width": 390, "height": 844}

SEED = """
import json
from django.db import transaction
from threadline.knowledge import actions
from threadline.tenancy.models import Brand, Membership
admin = Membership.objects.select_related("workspace").order_by("id").first()
with transaction.atomic():
    brand = Brand.objects.filter(workspace=admin.workspace).first() or Brand.objects.create(
        workspace=admin.workspace, name="Acme", is_default=True)
    center = actions.do_save_help_center(admin, None, brand=brand, slug="acme", name="מרכז העזרה של Acme",
                                         default_language="en", languages=["en", "he"])
    category = actions.do_save_category(admin, None, help_center=center, titles={"en": "Orders", "he": "הזמנות"})
    section = actions.do_save_section(admin, None, category=category, titles={"en": "Shipping", "he": "משלוחים"})
    hebrew = actions.do_create_article(admin, section=section, language="he", title="מעקב אחרי החבילה",
                                       body="פותחים את **ההזמנות** ובוחרים בחבילה כדי לראות איפה היא נמצאת.")
    english = actions.do_save_translation(admin, hebrew.article, "en", title="Track your parcel",
                                          body="Open **Orders** and pick the parcel to see where it is.")
    actions.do_publish(admin, hebrew)
    actions.do_publish(admin, english)
print(json.dumps({"article": hebrew.article_id}))
"""

COUNT_PORTAL_MESSAGES = """
import json
from threadline.conversations.models import Message
print(json.dumps(sorted(m.metadata["portal"]["source"] for m in Message.objects.filter(channel__kind="portal"))))
"""


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser-help-center") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        proc.seed = proc.python(SEED)
        yield proc


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "he"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_visitor_reads_searches_and_writes_in_hebrew_on_a_phone(server, browser):
    context = browser.new_context(viewport=PHONE, locale="he-IL", is_mobile=True, has_touch=True,
                                  java_script_enabled=False)  # readable without JavaScript
    page = context.new_page()
    page.goto(f"{server.url}/help/acme/")
    assert page.url == f"{server.url}/help/acme/he/"
    page.locator(".hc-card a", has_text="הזמנות").wait_for(timeout=WAIT)
    fits_the_phone(page)
    screenshot(page, "help-he-1-home")

    page.locator(".hc-card h3 a", has_text="הזמנות").click()
    page.locator("h1", has_text="הזמנות").wait_for(timeout=WAIT)
    fits_the_phone(page)
    page.locator(".hc-list a", has_text="מעקב אחרי החבילה").click()
    page.locator("h1", has_text="מעקב אחרי החבילה").wait_for(timeout=WAIT)
    fits_the_phone(page)
    assert page.locator(".hc-languages a[hreflang=en]").count() == 1  # the English translation is offered
    screenshot(page, "help-he-2-article")

    page.locator(".hc-feedback summary").click()
    page.fill("#hc-comment", "לא כתוב איפה מספר המעקב")
    page.fill("#hc-email", "noa@example.com")
    page.locator(".hc-feedback button[value=no]").click()
    page.locator(".hc-feedback [role=status]").wait_for(timeout=WAIT)
    assert "feedback=forwarded" in page.url
    fits_the_phone(page)
    screenshot(page, "help-he-3-feedback")

    page.fill("#hc-q", "החבילה")
    page.locator(".hc-search button").click()
    for _attempt in range(40):  # the worker indexes the articles after the seed committed
        if page.locator(".hc-results mark").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    page.locator(".hc-results a", has_text="מעקב אחרי החבילה").wait_for(timeout=WAIT)
    fits_the_phone(page)
    screenshot(page, "help-he-4-search")

    page.goto(f"{server.url}/help/acme/he/contact/")
    page.fill("#hc-name", "נועה כהן")
    page.fill("#hc-email", "noa@example.com")
    page.fill("#hc-subject", "ההזמנה לא הגיעה")
    page.fill("#hc-message", "הזמנתי לפני שבועיים ועדיין לא קיבלתי.")
    page.locator(".hc-form button[type=submit]").click()
    page.locator("[role=status]").wait_for(timeout=WAIT)
    fits_the_phone(page)
    screenshot(page, "help-he-5-contact-sent")
    context.close()

    sources = []
    for _attempt in range(40):  # the worker turns both submissions into portal messages
        sources = server.python(COUNT_PORTAL_MESSAGES)
        if len(sources) == 2:
            break
        import time

        time.sleep(0.5)
    assert sources == ["article_feedback", "help_center"]


def test_no_accessibility_finding_on_any_page(server, browser):
    context = browser.new_context(viewport=PHONE, locale="he-IL", is_mobile=True, has_touch=True)
    page = context.new_page()
    article = server.seed["article"]
    for path in ("/help/acme/he/", f"/help/acme/he/articles/{article}/", "/help/acme/he/search/?q=חבילה",
                 "/help/acme/he/contact/", "/help/acme/he/nowhere/"):
        page.goto(server.url + path)
        fits_the_phone(page)
        assert axe_findings(page) == [], path
    context.close()
