"""The community forum in headless Chromium against a real `threadline serve` mailing through a real SMTP server,
at phone width (390 px) and right to left (Hebrew): the admin creates a forum at /app/community; a customer signs
in by the mailed link, asks a question (held: a new member), the admin approves it and answers from the topic
page with the agent badge, the customer accepts the answer, which then shows on top. No page scrolls sideways;
axe-core finds nothing critical or serious on the public pages. Screenshots in test-artifacts/."""

from __future__ import annotations

import pytest

from threadline.testing.mailbox import link_in, mailing_server, wait_for_mail
from threadline.web.testkit import (
    ADMIN_EMAIL,
    axe_findings,
    no_sideways_scroll,
    screenshot,
    sign_in,
)

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
WAIT = 15_000
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def served(request, tmp_path_factory):
    with mailing_server(request, tmp_path_factory, "community") as pair:
        yield pair


def test_a_hebrew_customer_asks_and_accepts_an_agents_answer_at_390px(served, browser):
    server, sink = served
    server.shell("from threadline.tenancy.models import User; "
                 f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language='he', name='עדה')")
    admin = browser.new_context(viewport=PHONE, locale="he-IL").new_page()
    sign_in(admin, server.url)
    admin.goto(f"{server.url}/app/community")
    assert admin.locator("html").get_attribute("dir") == "rtl"
    admin.locator("details.admin-add summary").click()
    admin.fill("form[action='/app/community/forums'] input[name=name]", "קהילת אקמה")
    admin.fill("form[action='/app/community/forums'] input[name=slug]", "acme")
    admin.locator("form[action='/app/community/forums'] button[type=submit]").click()
    admin.wait_for_url(f"{server.url}/app/community", timeout=WAIT)
    admin.fill("form[action$='/categories'] input[name=name]", "חשבונות")
    admin.locator("form[action$='/categories'] button[type=submit]").click()
    admin.wait_for_url(f"{server.url}/app/community", timeout=WAIT)

    customer = browser.new_context(viewport=PHONE, locale="he-IL").new_page()
    customer.goto(f"{server.url}/community/acme/")
    assert customer.locator("html").get_attribute("dir") == "rtl"
    assert customer.locator("html").get_attribute("lang") == "he"
    no_sideways_scroll(customer)
    customer.locator("header.top a[href='/community/acme/signin']").click()
    customer.fill("input[name=email]", "dana@example.com")
    customer.fill("input[name=name]", "דנה")
    customer.locator("main button[type=submit]").click()
    customer.locator("main [role=status]").wait_for(timeout=WAIT)
    customer.goto(server.url + link_in(wait_for_mail(sink)[0], "community/acme/signin"))
    customer.locator("main button[type=submit]").click()
    customer.wait_for_url(f"{server.url}/community/acme/", timeout=WAIT)
    customer.locator("main a.button").click()
    customer.fill("input[name=title]", "איך מורידים חשבונית?")
    customer.fill("textarea[name=body]", "אני לא מוצאת את **החשבונית** של הזמנה 4471")
    customer.locator("main button[type=submit]").click()
    customer.locator("main p.notice[role=status]").wait_for(timeout=WAIT)
    topic_url = customer.url.split("?")[0]
    no_sideways_scroll(customer)
    screenshot(customer, "community-held-390-rtl")

    admin.goto(f"{server.url}/app/community")
    admin.locator("form[action$='/approve'] button").first.click()
    admin.wait_for_url(f"{server.url}/app/community", timeout=WAIT)
    admin.goto(topic_url)
    admin.fill("textarea[name=body]", "בתפריט **הזמנות**, לחצי על ״חשבונית״.")
    admin.locator("form[action$='/reply'] button[type=submit]").click()
    admin.locator("article.post .badge.agent").wait_for(timeout=WAIT)

    customer.goto(topic_url)
    customer.locator("form[action$='/accept'] button").click()
    customer.locator("#accepted-title").wait_for(timeout=WAIT)
    top = customer.locator("section[aria-labelledby=accepted-title] article.post.accepted")
    assert "הזמנות" in top.inner_text()
    assert "עדה" in top.inner_text()
    no_sideways_scroll(customer)
    screenshot(customer, "community-accepted-390-rtl")
    assert axe_findings(customer) == []
    customer.goto(f"{server.url}/community/acme/search?q=חשבונית")
    assert "איך מורידים חשבונית?" in customer.locator("main").inner_text()
    no_sideways_scroll(customer)
    assert axe_findings(customer) == []
