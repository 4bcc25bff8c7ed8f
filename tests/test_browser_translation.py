"""Machine translation both ways, in headless Chromium (Debian's package) against a real `threadline serve`
whose translation provider is a local LibreTranslate-shaped server with a small deterministic dictionary
(`translation/testkit.py`): a Thai customer writes in the chat widget; a Czech agent (workspace in Czech, speaks
only Czech) sees the message in Czech with the Thai original one click away, writes in Czech, previews the Thai
translation and sends; the customer receives Thai, and the agent's Czech original stays on the message.
Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import pytest

from threadline.testing.server import migrated_copy
from threadline.translation.testkit import FakeTranslator
from threadline.web.testkit import (
    ADMIN_EMAIL,
    ShopSite,
    axe_findings,
    no_sideways_scroll,
    screenshot,
    set_up_workspace,
    settle,
    sign_in,
    threadline_server,
)

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
WAIT = 15_000  # ms
THAI = "สวัสดีครับ คำสั่งซื้อของฉันยังไม่มาถึง"
CZECH = "Dobrý den, moje objednávka ještě nedorazila."
REPLY_CS = "Omlouváme se, vaši objednávku odešleme zítra."
REPLY_TH = "ขออภัย เราจะส่งคำสั่งซื้อของคุณพรุ่งนี้"

CZECH_AGENT = """
from django.db import transaction
from threadline.routing.actions import profile_of
from threadline.tenancy.actions import do_add_agent
from threadline.tenancy.models import Membership
from threadline.translation.actions import do_save_settings
admin = Membership.objects.select_related("workspace").get(role="admin")
with transaction.atomic():
    do_save_settings(admin, provider="libretranslate", base_url={url!r}, api_key="test-key", monthly_budget=100000)
    petr = do_add_agent(admin.workspace, "petr@acme.example", name="Petr Novák", password={password!r})
    petr.user.language = "cs"
    petr.user.save(update_fields=["language"])
    profile = profile_of(petr)
    profile.languages = ["cs"]
    profile.save(update_fields=["languages"])
print("{{}}")
"""


@pytest.fixture(scope="module")
def translator():
    fake = FakeTranslator().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def server(request, tmp_path_factory, translator):
    from threadline.web.testkit import PASSWORD

    data_dir = tmp_path_factory.mktemp("browser-translation") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        proc.workspace = set_up_workspace(proc)
        proc.python(CZECH_AGENT.format(url=translator.url, password=PASSWORD))
        yield proc


@pytest.fixture
def shop(server):
    site = ShopSite(server.url, server.workspace["channel_id"]).start()
    yield site
    site.stop()


def test_a_thai_customer_and_a_czech_agent_understand_each_other(server, browser, shop, translator):
    customer = browser.new_context(locale="th-TH")
    page = customer.new_page()
    page.goto(shop.url)
    page.click("#threadline-launcher")
    frame = page.frame_locator("#threadline-frame")
    frame.locator("html[data-state=ready]").wait_for(state="attached", timeout=WAIT)
    frame.locator("#text").fill(THAI)
    frame.locator("#text").press("Enter")
    frame.locator(".msg.in:not(.pending) .bubble", has_text=THAI).wait_for(timeout=WAIT)

    agent = browser.new_context(locale="cs-CZ").new_page()
    sign_in(agent, server.url, "petr@acme.example")
    assert agent.evaluate("document.documentElement.lang") == "cs"  # the workspace speaks Czech to Petr
    agent.locator(".row", has_text="สวัสดีครับ").locator(".row-link").click()
    translated = agent.locator("#timeline .message.in .translation .translated")
    translated.filter(has_text=CZECH).wait_for(timeout=WAIT)
    original = agent.locator("#timeline .message.in details.translation-original")
    assert not original.locator(".body").is_visible()  # the original is folded away...
    original.locator("summary").click()
    assert original.locator(".body").inner_text().strip() == THAI  # ...one click away
    screenshot(agent, "translation-agent-cs")

    agent.fill("#composer-text", REPLY_CS)
    assert agent.locator("#translate-toggle").is_checked()
    agent.click("#translate-preview-button")
    agent.locator("#translate-preview-text", has_text=REPLY_TH).wait_for(timeout=WAIT)
    screenshot(agent, "translation-preview-cs")
    agent.click("#send-button")
    sent = agent.locator("#timeline .message.out", has_text=REPLY_TH)
    sent.wait_for(timeout=WAIT)
    assert sent.locator(".sent-translation .original").inner_text().strip() == REPLY_CS

    frame.locator(".msg.out .bubble", has_text=REPLY_TH).wait_for(timeout=WAIT)  # the customer reads Thai
    assert frame.locator(".msg", has_text=REPLY_CS).count() == 0  # and never the agent's Czech
    screenshot(page, "translation-widget-th")
    bodies = [r["body"] for r in translator.requests if r["path"] == "/translate"]
    assert {"q": [THAI], "source": "th", "target": "cs", "format": "text", "api_key": "test-key"} in bodies
    assert {"q": [REPLY_CS], "source": "cs", "target": "th", "format": "text", "api_key": "test-key"} in bodies

    agent.focus("#composer-text")  # the composer opens
    agent.locator("#composer .composer-tabs label").nth(1).click()  # "Internal note"
    assert agent.locator('#composer input[name="mode"][value="note"]').is_checked()
    assert agent.locator("#composer-translate").is_hidden()  # notes are never translated out
    customer.close()
    agent.context.close()


@pytest.mark.parametrize("language", ["en", "he"])
def test_translation_screens_pass_axe_and_fit_in_both_directions(server, browser, language):
    """The admin screen (with a glossary term) and a conversation with a translated message and a translated
    reply: no critical or serious axe finding and nothing wider than the window, at 1280 and 390 px, left to right
    and right to left. Runs after the round trip above, whose conversation it opens."""
    server.shell("from threadline.tenancy.models import User; "
                 f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language={language!r})")
    server.python("from django.db import transaction\n"
                  "from threadline.tenancy.models import Membership\n"
                  "from threadline.translation.actions import do_save_glossary_term\n"
                  "admin = Membership.objects.get(role='admin')\n"
                  "with transaction.atomic():\n"
                  "    do_save_glossary_term(admin, 'Threadline', {'th': 'Threadline', 'cs': 'Threadline'})\n"
                  "print('{}')")
    context = browser.new_context(locale="he-IL" if language == "he" else "en-US")
    page = context.new_page()
    sign_in(page, server.url)
    try:
        for path in ("/app/admin/translation", "/app/c/1/"):
            for size in ({"width": 1280, "height": 800}, {"width": 390, "height": 844}):
                page.set_viewport_size(size)
                page.goto(server.url + path)
                settle(page)
                assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
                if path.startswith("/app/c/"):
                    page.locator('.translation[data-translation="done"]').first.wait_for(timeout=WAIT)
                    page.wait_for_function(  # and no other translation still coming (they go one at a time)
                        "!document.querySelector('[data-translation=\"pending\"][data-translate-url]')", timeout=WAIT)
                no_sideways_scroll(page)
                assert axe_findings(page) == [], path
                screenshot(page, f"translation{path.replace('/', '-').rstrip('-')}-{language}-{size['width']}")
    finally:
        context.close()
        server.shell("from threadline.tenancy.models import User; "
                     f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language='en')")
