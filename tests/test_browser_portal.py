"""The customer portal in headless Chromium at 390 px, in Hebrew, against a real `threadline serve` whose mail goes
to a real SMTP sink: ask for a sign-in link, open it from the mail, see the request (the agent's reply, never
the internal note), answer it and see the answer arrive through the pipeline, sign out. Right-to-left, nothing
wider than the phone, no critical or serious axe-core finding. Screenshots in test-artifacts/."""

from __future__ import annotations

import pytest

from threadline.channels.email.testkit import SmtpSink
from threadline.testing.mailbox import link_in, wait_for_mail
from threadline.testing.server import migrated_copy
from threadline.web.testkit import axe_findings, screenshot, threadline_server

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
WAIT = 20_000
PHONE = {"width": 390, "height": 844}

SEED = """
import json
from django.db import transaction
from threadline.channels.actions import do_create_channel
from threadline.channels.base import InboundMessage
from threadline.conversations.actions import do_add_note, do_send_reply, receive_inbound_message
from threadline.tenancy.models import Membership
admin = Membership.objects.select_related("workspace").order_by("id").first()
with transaction.atomic():
    api = do_create_channel(admin, "api", "Shop backend", {"webhook_url": "http://127.0.0.1:9/hook"})
    message = receive_inbound_message(api, InboundMessage(
        provider_message_id="seed-1", sender_kind="email", sender_address="noa@example.com", sender_verified=True,
        sender_name="נועה כהן", text="איפה ההזמנה שלי? הזמנתי לפני שבוע", subject="הזמנה 1001"))
    do_add_note(admin, message.conversation, "INTERNAL-NOTE לקוחה חשובה")
print(json.dumps({"slug": admin.workspace.slug, "conversation": message.conversation_id}))
"""


@pytest.fixture(scope="module")
def sink():
    smtp = SmtpSink().start()
    yield smtp
    smtp.stop()


@pytest.fixture(scope="module")
def server(request, tmp_path_factory, sink):
    data_dir = tmp_path_factory.mktemp("browser-portal") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, \
            threadline_server(data_dir, url, THREADLINE_SYSTEM_MAIL_URL=sink.url,
                              THREADLINE_SYSTEM_MAIL_FROM="threadline@example.test") as proc:
        proc.seed = proc.python(SEED)
        yield proc


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "he"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_customer_signs_in_by_email_reads_and_answers_in_hebrew_on_a_phone(server, browser, sink):
    slug, conversation_id = server.seed["slug"], server.seed["conversation"]
    context = browser.new_context(viewport=PHONE, locale="he-IL", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{server.url}/portal/{slug}/")
    fits_the_phone(page)
    assert axe_findings(page) == []
    screenshot(page, "portal-he-1-sign-in")

    page.fill("#by-email input[name=email]", "noa@example.com")
    page.locator("#by-email button[type=submit]").click()
    page.locator("[role=status]").wait_for(timeout=WAIT)
    fits_the_phone(page)
    screenshot(page, "portal-he-2-link-sent")

    path = link_in(wait_for_mail(sink, timeout=30)[0], f"portal/{slug}/link")
    page.goto(server.url + path + "/")
    fits_the_phone(page)
    page.locator("button[type=submit].primary").click()
    page.locator(".requests a", has_text="הזמנה 1001").wait_for(timeout=WAIT)
    fits_the_phone(page)
    assert axe_findings(page) == []
    screenshot(page, "portal-he-3-requests")

    page.locator(".requests a", has_text="הזמנה 1001").click()
    page.locator(".message.from-customer", has_text="איפה ההזמנה שלי").wait_for(timeout=WAIT)
    assert "INTERNAL-NOTE" not in page.content()
    fits_the_phone(page)
    assert axe_findings(page) == []
    screenshot(page, "portal-he-4-request")

    page.fill("textarea[name=text]", "תודה, אשמח לעדכון")
    page.locator("form.card button[type=submit]").click()
    page.locator(".notice[role=status]").wait_for(timeout=WAIT)
    for _attempt in range(40):  # the worker stores the reply after the page answered
        if page.locator(".message.from-customer", has_text="אשמח לעדכון").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    page.locator(".message.from-customer", has_text="אשמח לעדכון").wait_for(timeout=WAIT)
    assert page.url.startswith(f"{server.url}/portal/{slug}/requests/{conversation_id}/")
    fits_the_phone(page)
    screenshot(page, "portal-he-5-answered")

    page.locator(".sign-out button").click()
    page.locator("#by-email").wait_for(timeout=WAIT)
    page.goto(f"{server.url}/portal/{slug}/requests/{conversation_id}/")
    page.locator("#by-email").wait_for(timeout=WAIT)  # signed out: back to signing in
    context.close()
