"""The answer bot in the chat widget, in headless Chromium against a real `threadline serve` (its embedded
worker answers): a Hebrew visitor on a 390 px phone asks, the bot's answer shows its buttons under it (right to
left), a press sends the choice, "No" then "Talk to a person" hands over; the agent's conversation screen
shows the bot's turns. Screenshots in test-artifacts/."""

from __future__ import annotations

import pytest
from django.utils import translation

from threadline.bot import wording
from threadline.testing.server import migrated_copy
from threadline.web.testkit import ShopSite, screenshot, set_up_workspace, sign_in, threadline_server

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
WAIT = 30_000
PHONE = {"width": 390, "height": 844}

SEED = """
import json
from django.db import transaction
from threadline.bot.tests.helpers import enable_bot, publish_article, support_team
from threadline.tenancy.models import Membership
admin = Membership.objects.select_related("workspace").get(user__email="ada@acme.example")
publish_article(admin, "he", "מתי ההזמנה שלי תגיע", "משלוחים בארץ מגיעים תוך 3 עד 5 ימי עסקים.")
publish_article(admin, "he", "איך מחליפים סיסמה", "בעמוד החשבון לוחצים על שינוי סיסמה.")
support_team(admin)
enable_bot(admin)
print(json.dumps({"ok": True}))
"""


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser-bot") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        proc.workspace = set_up_workspace(proc)
        proc.python(SEED)
        yield proc


def test_the_bot_answers_in_the_widget_with_buttons_and_hands_over(server, browser):
    shop = ShopSite(server.url, server.workspace["channel_id"]).start()
    try:
        context = browser.new_context(viewport=PHONE, locale="he-IL", is_mobile=True, has_touch=True)
        page = context.new_page()
        page.goto(shop.url)
        page.click("#threadline-launcher")
        frame = page.frame_locator("#threadline-frame")
        frame.locator("#text").wait_for(timeout=WAIT)
        frame.locator("#text").fill("מתי תגיע ההזמנה שלי?")
        frame.locator("#send").click()
        buttons = frame.locator(".msg.out .choices button")
        buttons.first.wait_for(timeout=WAIT)
        assert buttons.count() == 3
        assert "מתי ההזמנה שלי תגיע" in frame.locator(".msg.out .bubble").last.inner_text()
        first, last = buttons.nth(0).bounding_box(), buttons.nth(2).bounding_box()
        assert first["x"] + first["width"] <= PHONE["width"] and last["x"] >= 0  # wrapped inside the phone
        assert frame.locator("html").get_attribute("dir") == "rtl"
        screenshot(page, "bot-widget-answer-he-390")

        frame.locator(".choices button[data-choice='bot.no']").click()
        frame.locator(".msg.out .choices button[data-choice='bot.handoff']").wait_for(timeout=WAIT)
        assert frame.locator(".choices button[data-choice='bot.yes']").count() == 0  # the answered buttons went
        frame.locator(".choices button[data-choice='bot.handoff']").click()
        with translation.override("he"):  # the visitor's language, as the bot writes it
            handing_over = wording.handing_over("asked")
        frame.locator(".msg.out .bubble", has_text=handing_over).wait_for(timeout=WAIT)
        assert frame.locator(".choices button").count() == 0  # nothing left to press
        screenshot(page, "bot-widget-handed-over-he-390")
        context.close()

        agent = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        desk = agent.new_page()
        sign_in(desk, server.url)
        conversation = server.python("""
import json
from threadline.conversations.models import Conversation
print(json.dumps(Conversation.objects.order_by("-id").values_list("id", flat=True).first()))
""")
        desk.goto(f"{server.url}/app/c/{conversation}/")
        desk.locator(".item.message.out.bot").first.wait_for(timeout=WAIT)
        assert desk.locator(".item.message.out.bot").count() == 3
        assert "Answer bot" in desk.locator(".item.message.out.bot .author").first.inner_text()
        screenshot(desk, "bot-turns-in-app")
        agent.close()
    finally:
        shop.stop()
