"""axe-core on every screen of /app/ (and the operator's), in Debian's Chromium against a real `threadline serve`,
in English and in Hebrew (right to left), at 1280×800 and 390×844: no critical or serious violation, and nothing
wider than the window. The report goes to test-artifacts/axe/every-screen-<language>.json, a screenshot of each
screen to test-artifacts/every-screen/.

`test_every_page_of_the_workspace_is_checked` keeps the list whole: a GET page added under /app/ fails it until it
is checked here or named in COVERED_ELSEWHERE (another test checks it in both languages at both sizes) or in
NOT_SCREENS (not an HTML page of its own: a JSON answer, a download, a file)."""

from __future__ import annotations

import json

import pytest

from threadline.testing.server import migrated_copy
from threadline.web.testkit import (
    ADMIN_EMAIL,
    ARTIFACTS,
    PASSWORD,
    axe_findings,
    set_up_workspace,
    settle,
    sign_in,
    threadline_server,
)

playwright = pytest.importorskip("playwright.sync_api")

SIZES = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}
OPERATOR_EMAIL = "root@installation.example"
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"

# route (as in web/urls.py) → the path checked ({name} filled from the seeded ids)
SCREENS = {
    "app/admin/": "/app/admin/",
    "app/admin/workspace": "/app/admin/workspace",
    "app/admin/brands": "/app/admin/brands",
    "app/admin/brands/<int:brand_id>": "/app/admin/brands/{brand}",
    "app/admin/channels": "/app/admin/channels",
    "app/admin/channels/new/<str:kind>": "/app/admin/channels/new/telegram",
    "app/admin/channels/<int:channel_id>": "/app/admin/channels/{email}",
    "app/admin/channels/<int:channel_id>/disable": "/app/admin/channels/{webchat}/disable",
    "app/admin/channels/<int:channel_id>/preview": "/app/admin/channels/{webchat}/preview",
    "app/admin/people/<int:membership_id>": "/app/admin/people/{bob}",
    "app/admin/roles": "/app/admin/roles",
    "app/admin/security": "/app/admin/security",
    "app/admin/tokens": "/app/admin/tokens",
    "app/admin/webhooks": "/app/admin/webhooks",
    "app/admin/apps": "/app/admin/apps",
    "app/admin/jira": "/app/admin/jira",
    "app/admin/crm": "/app/admin/crm",
    "app/admin/outreach": "/app/admin/outreach",
    "app/outreach": "/app/outreach",
    "app/outreach/<int:campaign_id>": "/app/outreach/{campaign}",
    "app/admin/webhooks/<int:subscription_id>": "/app/admin/webhooks/{webhook}",
    "app/admin/privacy": "/app/admin/privacy",
    "app/admin/routing/preview": "/app/admin/routing/preview?language=he&channel_kind=webchat&priority=normal",
    "app/admin/automations/<int:automation_id>": "/app/admin/automations/{automation}",
    "app/admin/replies": "/app/admin/replies",
    "app/admin/replies/<int:template_id>": "/app/admin/replies/{canned}",
    "app/admin/replies/macros/<int:macro_id>": "/app/admin/replies/macros/{macro}",
    "app/admin/templates": "/app/admin/templates",
    "app/admin/templates/<int:template_id>": "/app/admin/templates/{automatic}",
    "app/admin/bot": "/app/admin/bot",
    "app/audit": "/app/audit",
    "app/reports": "/app/reports",
    "app/attention": "/app/attention",
    "app/knowledge": "/app/knowledge",
    "app/knowledge/structure": "/app/knowledge/structure",
    "app/knowledge/<int:article_id>/<str:language>": "/app/knowledge/{article}/en",
    "app/knowledge/<int:article_id>/<str:language>/history": "/app/knowledge/{article}/en/history",
    "app/knowledge/<int:article_id>/delete": "/app/knowledge/{article}/delete",
    "operator/workspaces": "/operator/workspaces",
}
# checked by axe in English and Hebrew at 1280 and 390 px by another test
COVERED_ELSEWHERE = {
    "app/admin/translation": "tests/test_browser_translation.py::test_translation_screens_pass_axe_and_fit_in_both_directions",
    "app/": "tests/test_browser_workspace_ui.py::test_axe_finds_no_critical_or_serious_violation",
    "app/c/<int:conversation_id>/": "tests/test_browser_workspace_ui.py::test_axe_finds_no_critical_or_serious_violation",
    "app/search": "tests/test_browser_workspace_ui.py::test_axe_finds_no_critical_or_serious_violation",
    "app/settings": "tests/test_browser_workspace_ui.py::test_axe_finds_no_critical_or_serious_violation",
    **{f"app/admin/{name}": "tests/test_browser_admin_service.py::test_every_screen_fits_a_phone_and_passes_axe_in_"
                            "both_directions" for name in ("teams", "hours", "sla", "routing", "automations", "fields", "surveys")},
    "app/admin/automations/new": "tests/test_browser_acceptance_admin.py (en-1280, he-390) and below (he-1280, en-390)",
    "app/admin/channels/new": "tests/test_browser_admin_channels.py (390) and below (1280)",
    "app/admin/people": "tests/test_browser_people.py::test_people_and_password_screens_fit_a_phone_and_pass_axe",
    "app/reports/alerts": "tests/test_browser_reports.py::test_alerts_screen_fits_a_phone_and_passes_axe",
    **{route: "tests/test_browser_crisis.py::test_the_triage_and_crisis_screens_fit_a_phone_and_pass_axe"
       for route in ("app/admin/triage", "app/crisis", "app/crisis/<int:crisis_id>")},
    "app/social": "tests/test_browser_social.py::test_social_screens_fit_and_pass_axe",
    "app/social/<int:item_id>": "tests/test_browser_social.py::test_social_screens_fit_and_pass_axe",
}
EXTRA = {  # covered elsewhere at some sizes only: checked here too
    "app/admin/automations/new": "/app/admin/automations/new",
    "app/admin/channels/new": "/app/admin/channels/new",
    "app/admin/people": "/app/admin/people",
}
NOT_SCREENS = {
    "app/admin/crm/callback": "the OAuth 2 redirect back from the CRM (answers a redirect or the CRM screen's error)",
    "app/reports/export": "a CSV download",
    "app/audit/export": "a CSV download",
    "app/outreach/<int:campaign_id>/deliveries.csv": "a CSV download",
    "app/knowledge/files/<int:attachment_id>": "a file",
    "app/admin/channels/<int:channel_id>/status": "JSON for the live indicator",
}

SEED = """
import json
from django.db import transaction
from threadline.automations.actions import do_save_automation
from threadline.channels.actions import do_create_channel
from threadline.channels.base import InboundMessage
from threadline.channels.models import Channel, InboundEvent
from threadline.contacts.custom_fields import do_save_field
from threadline.conversations.actions import do_update_conversation, receive_inbound_message
from threadline.knowledge.actions import do_create_article
from threadline.outreach.actions import do_create_campaign
from threadline.replies.actions import do_save_macro, do_save_template
from threadline.tenancy.actions import do_create_operator
from threadline.tenancy.brands import do_save_brand
from threadline.tenancy.models import Membership
from threadline.tenancy.roles import do_create_role
from threadline.webhooks.actions import do_create_subscription
admin = Membership.objects.select_related("workspace").get(user__email={admin!r})
ws = admin.workspace
with transaction.atomic():
    api = do_create_channel(admin, "api", "מערכת ההזמנות", {{"webhook_url": "http://127.0.0.1:9/hook"}})
    message = receive_inbound_message(api, InboundMessage(
        provider_message_id="axe-1", sender_kind="external", sender_address="dana@example.com",
        sender_name="דנה לוי", text="איפה ההזמנה שלי?", subject="איפה ההזמנה שלי?"))
    do_update_conversation(admin, message.conversation, tags=["billing", "חשבונית"])
    brand = do_save_brand(admin, None, name="Garden", primary_color="#1f6f43", accent_color="#f2c14e",
                          reply_from=[], tone_notes="Warm, short sentences.")
    canned = do_save_template(ws, None, name="Thanks", kind="canned", shortcut="thanks",
                              variants=[{{"language": "en", "text": "Thank you!"}}, {{"language": "he", "text": "תודה!"}}])
    automatic = do_save_template(ws, None, name="We got it", kind="automatic",
                                 variants=[{{"language": "en", "subject": "Got it", "text": "We got your message."}}])
    macro = do_save_macro(ws, None, name="Solve with thanks", template_id=canned.pk,
                          actions=[{{"type": "set_status", "value": "solved"}}])
    automation = do_save_automation(ws, None, name="Invoices are urgent", kind="event", events=["message.received"],
                                    conditions={{"all": [{{"field": "message.text", "op": "contains_any",
                                                         "value": ["invoice"]}}]}},
                                    actions=[{{"type": "set_priority", "value": "urgent"}}])
    webhook, _ = do_create_subscription(admin, "https://crm.example.com/hooks", ["*"], description="CRM")
    article = do_create_article(admin, section=None, language="en", title="Returns", body="Send it back.")
    do_save_field(ws, None, key="plan", label="Plan", kind="select", applies_to="contact", options=["Free", "Pro"])
    do_create_role(admin, ws, name="Readers", permissions=["conversations.view"])
    InboundEvent.objects.create(workspace=ws, channel=api, state="failed", error="Unknown payload shape",
                                error_code="unparseable", idempotency_key="axe-bad", body=b'{{"x": 1}}')
    do_create_operator({operator!r}, {password!r})
    campaign = do_create_campaign(ws, name="שינוי בשעות השירות", messages={{"en": "Hello {{{{name}}}}, our hours change.",
                                  "he": "שלום {{{{name}}}}, שעות השירות משתנות."}}, actor=admin)
bob = Membership.objects.get(workspace=ws, user__email="bob@acme.example")
channels = {{c.kind: c.pk for c in Channel.objects.filter(workspace=ws)}}
print(json.dumps({{"brand": brand.pk, "canned": canned.pk, "automatic": automatic.pk, "macro": macro.pk,
                  "automation": automation.pk, "webhook": webhook.pk, "article": article.article_id,
                  "bob": bob.pk, "api": api.pk, "webchat": channels["webchat"], "email": channels["email"],
                  "conversation": message.conversation_id, "campaign": campaign.pk}}))
"""


def _page_routes() -> set[str]:
    from django.urls import URLPattern

    from threadline.web import urls

    routes = set()
    for pattern in urls.urlpatterns:
        route = str(pattern.pattern)
        if isinstance(pattern, URLPattern) and (route.startswith("app/") or route.startswith("operator/")) \
                and not route.startswith("app/x/"):
            routes.add(route)
    return routes


def _get_routes() -> set[str]:
    """The routes whose view answers GET (a POST-only view answers 405 to it)."""
    from django.test import RequestFactory
    from django.urls import resolve

    from threadline.web import urls

    factory, answer = RequestFactory(), set()
    for pattern in urls.urlpatterns:
        route = str(pattern.pattern)
        if route not in _page_routes():
            continue
        path = "/" + route
        for converter, value in (("<int:", "1"), ("<str:", "x"), ("<slug:", "x")):
            while converter in path:
                start = path.index(converter)
                path = path[:start] + value + path[path.index(">", start) + 1:]
        match = resolve(path)
        request = factory.get(path)
        request.user = _anonymous()
        request.session = {}
        response = match.func(request, *match.args, **match.kwargs)
        if response.status_code != 405:
            answer.add(route)
    return answer


def _anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def test_every_page_of_the_workspace_is_checked():
    pages = _get_routes()
    checked = set(SCREENS) | set(COVERED_ELSEWHERE) | set(NOT_SCREENS)
    assert pages - checked == set(), "GET pages no axe test checks: add them to SCREENS"
    assert checked - _page_routes() == set(), "routes that are gone are still named here"
    assert "app/admin/people/<int:membership_id>/<str:operation>" not in pages  # POST-only routes are left out


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("axe-every-screen") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        set_up_workspace(proc, relay_url="smtp://127.0.0.1:9")
        proc.ids = proc.python(SEED.format(admin=ADMIN_EMAIL, operator=OPERATOR_EMAIL, password=PASSWORD))
        yield proc


def _sign_in_operator(page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", OPERATOR_EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.slow
@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize("language", ["en", "he"])
def test_every_screen_passes_axe_and_fits_the_window(server, browser, language):
    for email in (ADMIN_EMAIL, OPERATOR_EMAIL):
        server.shell("from threadline.tenancy.models import User; "
                     f"User.objects.filter(email={email!r}).update(language={language!r})")
    folder = ARTIFACTS / "every-screen"
    folder.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {}
    checked = []
    screens = {**SCREENS, **EXTRA}
    try:
        admin = browser.new_context(viewport=SIZES["1280"], locale="he-IL" if language == "he" else "en-US")
        admin_page = admin.new_page()
        sign_in(admin_page, server.url)
        operator = browser.new_context(viewport=SIZES["1280"], locale="he-IL" if language == "he" else "en-US")
        operator_page = operator.new_page()
        _sign_in_operator(operator_page, server.url)
        for route, path in screens.items():
            page = operator_page if route.startswith("operator/") else admin_page
            url = server.url + path.format(**server.ids)
            for size, viewport in SIZES.items():
                page.set_viewport_size(viewport)
                answer = page.goto(url)
                assert answer.status == 200, f"{url}: {answer.status}"
                settle(page)
                if not route.endswith("/preview"):  # the widget's frame speaks the widget's language
                    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr"), url
                key = f"{path}@{size}"
                checked.append(key)
                overflow = page.evaluate(OVERFLOW)
                if overflow > 0:
                    report[f"{key} overflow"] = overflow
                findings = axe_findings(page)
                if findings:
                    report[key] = findings
                name = path.split("?")[0].strip("/").replace("/", "-").replace("{", "").replace("}", "")
                page.screenshot(path=str(folder / f"{name}-{language}-{size}.png"))
    finally:
        for email in (ADMIN_EMAIL, OPERATOR_EMAIL):
            server.shell("from threadline.tenancy.models import User; "
                         f"User.objects.filter(email={email!r}).update(language='en')")
    axe_folder = ARTIFACTS / "axe"
    axe_folder.mkdir(parents=True, exist_ok=True)
    (axe_folder / f"every-screen-{language}.json").write_text(
        json.dumps({"checked": checked, "critical_or_serious": report}, indent=1, ensure_ascii=False))
    assert not report, json.dumps(report, indent=1, ensure_ascii=False)
