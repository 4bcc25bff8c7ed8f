"""In headless Chromium against a real `threadline serve`: the social inbox (/app/social) and one public item
(/app/social/<id>) in English and in Hebrew (right to left), at 1280 px and at 390 px: within the window and
axe-clean (no critical or serious violation); the item's verdict, reasons and actions are shown, and a public
reply typed in the page becomes a draft waiting for a second agent. Screenshots in test-artifacts/."""

from __future__ import annotations

import pytest

from threadline.testing.server import migrated_copy
from threadline.web.testkit import ADMIN_EMAIL, axe_findings, screenshot, sign_in, threadline_server

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"

SEED = """
import json
from django.db import transaction
from threadline.channels.actions import do_create_channel
from threadline.channels.base import PublicItemEvent
from threadline.social.actions import do_save_settings, receive_public_item
from threadline.tenancy.models import Membership
admin = Membership.objects.select_related("workspace").get(user__email={email!r})
with transaction.atomic():
    api = do_create_channel(admin, "api", "Listening", {{"webhook_url": "http://127.0.0.1:9/hook"}})
    do_save_settings(admin, approval_required=True, private_invitation="כתבו לנו ל-help@example.com")
    post = receive_public_item(api, PublicItemEvent(
        source="x", external_id="axe-1", kind="mention", author_kind="external", author_address="x:dana_levi",
        author_handle="dana_levi", author_name="דנה לוי", author_reach=12800,
        text="@threadline_coffee ההזמנה 4471 הגיעה שבורה ואף אחד לא עונה! גרוע", language="he",
        url="https://x.com/dana_levi/status/1864310022339281254"))
    receive_public_item(api, PublicItemEvent(
        source="x", external_id="axe-2", kind="reply", parent_external_id="axe-1", author_kind="external",
        author_address="x:omer", author_handle="omer", author_name="Omer Katz", author_reach=340,
        text="Same here, my order never came either. Very long words like Supercalifragilisticexpialidocious wrap.",
        language="en"))
print(json.dumps({{"item": post.pk}}))
"""


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("social") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        proc.seeded = proc.python(SEED.format(email=ADMIN_EMAIL))
        yield proc


@pytest.mark.parametrize(("language", "width", "height"), [
    ("en", 1280, 800), ("he", 1280, 800), ("en", 390, 844), ("he", 390, 844)])
def test_social_screens_fit_and_pass_axe(server, browser, language, width, height):
    server.shell("from threadline.tenancy.models import User; "
                 f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language={language!r})")
    item = server.seeded["item"]
    page = browser.new_page(viewport={"width": width, "height": height})
    sign_in(page, server.url)
    for path in ("/app/social", f"/app/social/{item}"):
        page.goto(f"{server.url}{path}")
        assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
        assert page.evaluate(OVERFLOW) <= 0, f"{path} is wider than {width}px"
        assert axe_findings(page) == [], path
        screenshot(page, f"social-{path.strip('/').replace('/', '-')}-{language}-{width}")
    assert page.locator(".social-thread li").count() == 2  # the mention and the reply under it
    assert page.locator(".reasons li").count() >= 1
    if language == "en" and width == 1280:
        page.fill("textarea[name=text][required]", "Sorry Dana, we are on it.")
        page.click("form[action$='/reply'] button[type=submit]")
        page.wait_for_load_state()
        assert "Waiting for another agent's approval." in page.content()
