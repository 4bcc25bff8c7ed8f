"""The knowledge-base editor in headless Chromium against a real `threadline serve`, at phone width (390 px) and
right to left (the admin reads Hebrew): open a help center for the brand, add a category and a section, write an
article in Hebrew, preview it, save it, publish it, edit it again and read the change in the version history.
No screen scrolls sideways; the text fields follow the text's direction (dir=auto); axe-core finds nothing
critical or serious on the list, the editor and the history. Screenshots in test-artifacts/."""

from __future__ import annotations

import pytest

from threadline.testing.server import migrated_copy
from threadline.web.testkit import ADMIN_EMAIL, axe_findings, no_sideways_scroll, screenshot, sign_in
from threadline.web.testkit import threadline_server as serve

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
WAIT = 15_000
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("knowledge") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, serve(data_dir, url) as running:
        running.shell("from threadline.tenancy.models import User; "
                      f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language='he')")
        yield running


def checked(page, name: str) -> None:
    assert page.locator("html").get_attribute("dir") == "rtl"
    no_sideways_scroll(page)
    screenshot(page, f"knowledge-{name}-390-rtl")
    assert axe_findings(page) == []


def test_a_hebrew_admin_writes_publishes_and_reads_the_history_at_390px(server, browser):
    page = browser.new_context(viewport=PHONE, locale="he-IL").new_page()
    sign_in(page, server.url)
    page.goto(f"{server.url}/app/")
    page.locator("#views-link").click()  # on a phone the views (and this entry) are a screen of their own
    page.locator("#knowledge-nav").click()
    page.wait_for_url(f"{server.url}/app/knowledge", timeout=WAIT)
    page.goto(f"{server.url}/app/knowledge/structure")
    form = "form[action='/app/knowledge/structure/help-center']"
    page.fill(f"{form} input[name=slug]", "acme")
    page.select_option(f"{form} select[name=default_language]", "he")
    page.locator(f"{form} button[type=submit]").click()
    page.wait_for_url(f"{server.url}/app/knowledge/structure?done=saved", timeout=WAIT)
    page.locator("details.admin-add:has(form[action$='/categories']) summary").click()
    page.fill("form[action$='/categories'] input[name=title_he]", "הזמנות")
    page.locator("form[action$='/categories'] button[type=submit]").click()
    page.wait_for_url(f"{server.url}/app/knowledge/structure?done=saved", timeout=WAIT)
    page.locator("details.admin-add:has(form[action$='/sections']) summary").click()
    page.fill("form[action$='/sections'] input[name=title_he]", "משלוחים")
    page.locator("form[action$='/sections'] button[type=submit]").click()
    page.wait_for_url(f"{server.url}/app/knowledge/structure?done=saved", timeout=WAIT)
    no_sideways_scroll(page)

    page.goto(f"{server.url}/app/knowledge")
    page.fill("form[action='/app/knowledge/new'] input[name=title]", "איך עוקבים אחרי המשלוח?")
    page.select_option("form[action='/app/knowledge/new'] select[name=language]", "he")
    page.select_option("form[action='/app/knowledge/new'] select[name=section_id]", index=1)
    page.locator("form[action='/app/knowledge/new'] button[type=submit]").click()
    page.wait_for_url("**/app/knowledge/*/he", timeout=WAIT)
    editor = page.url
    assert page.locator("textarea[name=body]").get_attribute("dir") == "auto"
    assert page.locator("input[name=title]").get_attribute("dir") == "auto"
    page.fill("textarea[name=body]", "פותחים את **קישור המעקב** שבמייל.\n\n- הזמנה\n- משלוח")
    page.locator("button[name=preview]").click()
    page.locator(".kb-preview strong").wait_for(timeout=WAIT)
    assert page.locator(".kb-preview strong").inner_text() == "קישור המעקב"
    page.locator("button[name=save]").click()
    page.wait_for_url(f"{editor}?saved=1", timeout=WAIT)
    page.locator(f"form[action='{editor.removeprefix(server.url)}/publish'] button").click()
    page.wait_for_url(editor, timeout=WAIT)
    assert page.locator(".kb-status a[dir=ltr]").get_attribute("href").startswith("/help/acme/he/articles/")
    checked(page, "editor")

    page.fill("textarea[name=body]", "פותחים את **קישור המעקב** שבהודעה.\n\n- הזמנה\n- משלוח")
    page.locator("button[name=save]").click()
    page.wait_for_url(f"{editor}?saved=1", timeout=WAIT)
    page.goto(f"{editor}/history")
    assert "שבהודעה" in page.locator(".kb-diff ins").inner_text()
    assert "שבמייל" in page.locator(".kb-diff del").inner_text()
    checked(page, "history")

    page.goto(f"{server.url}/app/knowledge?q=" + "במעקב")
    assert "איך עוקבים אחרי המשלוח?" in page.locator("main").inner_text()
    checked(page, "list")


SET_UP = f"""
import json
from django.db import transaction
from threadline.knowledge import actions
from threadline.knowledge.models import HelpCenter
from threadline.tenancy.models import Brand, Membership
admin = Membership.objects.get(user__email={ADMIN_EMAIL!r})
with transaction.atomic():
    center = HelpCenter.objects.filter(workspace_id=admin.workspace_id).first() or actions.do_save_help_center(
        admin, None, brand=Brand.objects.get(workspace_id=admin.workspace_id, is_default=True), slug="acme",
        name="Acme", default_language="he")
    category = actions.do_save_category(admin, None, help_center=center, titles={{"he": "חיובים"}})
    kept = actions.do_save_section(admin, None, category=category, titles={{"he": "חשבוניות"}})
    empty = actions.do_save_section(admin, None, category=category, titles={{"he": "זיכויים"}})
    draft = actions.do_create_article(admin, section=kept, language="he", title="איך קוראים חשבונית?", body="כך.")
print(json.dumps({{"category": category.pk, "kept": kept.pk, "empty": empty.pk, "article": draft.article_id}}))
"""


def test_a_hebrew_admin_edits_and_deletes_structure_and_an_article_at_390px(server, browser):
    ids = server.python(SET_UP)
    page = browser.new_context(viewport=PHONE, locale="he-IL").new_page()
    sign_in(page, server.url)
    page.goto(f"{server.url}/app/knowledge/structure")
    edit = f"form[action='/app/knowledge/structure/categories/{ids['category']}']"
    page.locator(f"details:has({edit}) > summary").click()
    page.fill(f"{edit} input[name=title_he]", "חיובים ותשלומים")
    page.locator(f"{edit} button[type=submit]").click()
    page.wait_for_url(f"{server.url}/app/knowledge/structure?done=saved", timeout=WAIT)
    assert "חיובים ותשלומים" in page.locator("main").inner_text()

    refuse = f"form[action='/app/knowledge/structure/sections/{ids['kept']}/delete']"
    page.locator(f"details:has({refuse}) > summary").click()
    page.locator(f"{refuse} button").click()
    page.locator("main .error[role=alert]").wait_for(timeout=WAIT)
    assert page.locator("main .error[role=alert]").inner_text().strip()  # why, in the admin's language
    checked(page, "structure-refused")

    delete = f"form[action='/app/knowledge/structure/sections/{ids['empty']}/delete']"
    page.locator(f"details:has({delete}) > summary").click()
    page.locator(f"{delete} button").click()
    page.wait_for_url(f"{server.url}/app/knowledge/structure?done=deleted", timeout=WAIT)
    assert "זיכויים" not in page.locator("main").inner_text()
    checked(page, "structure")

    page.goto(f"{server.url}/app/knowledge/{ids['article']}/he")
    page.locator("#kb-delete").click()
    page.wait_for_url(f"{server.url}/app/knowledge/{ids['article']}/delete", timeout=WAIT)
    assert "איך קוראים חשבונית?" in page.locator("main").inner_text()
    checked(page, "delete-article")
    page.locator(f"form[action='/app/knowledge/{ids['article']}/delete'] button").click()
    page.wait_for_url(f"{server.url}/app/knowledge?deleted=1", timeout=WAIT)
    assert page.locator("main .notice[role=status]").is_visible()
    no_sideways_scroll(page)
