"""In headless Chromium against a real `threadline serve` mailing through a real SMTP server: an admin invites
an agent from /app/admin/people at phone width (390 px) and right to left (Hebrew); the invited agent opens the
mailed link in their own browser (its time zone preselected from the browser), sets name and password, and
lands in the workspace. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import re

import pytest

from threadline.channels.email.testkit import SmtpSink
from threadline.testing.mailbox import link_in, wait_for_mail
from threadline.testing.server import migrated_copy
from threadline.web.testkit import (
    ADMIN_EMAIL,
    axe_findings,
    no_sideways_scroll,
    screenshot,
    sign_in,
    threadline_server,
)

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
WAIT = 15_000
NEW_PASSWORD = "plum-orchard-velvet-42"


@pytest.fixture(scope="module")
def sink():
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(request, tmp_path_factory, sink):
    data_dir = tmp_path_factory.mktemp("people") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, \
            threadline_server(data_dir, url, THREADLINE_SYSTEM_MAIL_URL=sink.url) as proc:
        yield proc


def test_inviting_an_agent_who_joins_through_the_mailed_link(server, browser, sink):
    server.shell("from threadline.tenancy.models import User; "
                 f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language='he')")
    admin = browser.new_context(viewport={"width": 390, "height": 844}, locale="he-IL").new_page()
    sign_in(admin, server.url)
    admin.goto(f"{server.url}/app/admin/people")
    assert admin.locator("html").get_attribute("dir") == "rtl"
    admin.fill("form[action='/app/admin/people/invite'] input[name=email]", "noa@acme.example")
    admin.fill("form[action='/app/admin/people/invite'] input[name=skills]", "refunds")
    admin.locator("form[action='/app/admin/people/invite'] button[type=submit]").click()
    admin.wait_for_url(f"{server.url}/app/admin/people", timeout=WAIT)
    assert "noa@acme.example" in admin.locator("table").inner_text()
    no_sideways_scroll(admin)
    admin.locator("table").scroll_into_view_if_needed()
    screenshot(admin, "people-invited-390-rtl")
    admin.locator("tr", has_text="noa@acme.example").locator("a").click()
    admin.locator("form[action$='/resend'] button").wait_for(timeout=WAIT)
    no_sideways_scroll(admin)
    admin.locator("h1").scroll_into_view_if_needed()
    screenshot(admin, "person-invited-390-rtl")

    path = link_in(wait_for_mail(sink)[0], "invite")
    newcomer = browser.new_context(viewport={"width": 390, "height": 844}, locale="he-IL",
                                   timezone_id="Asia/Jerusalem").new_page()
    newcomer.goto(f"{server.url}{path}")
    assert newcomer.locator("html").get_attribute("dir") == "rtl"
    assert newcomer.locator("select[name=language]").input_value() == "he"
    assert newcomer.locator("select[name=time_zone]").input_value() == "Asia/Jerusalem"
    no_sideways_scroll(newcomer)
    screenshot(newcomer, "invite-accept-390-rtl")
    newcomer.fill("input[name=name]", "נועה לוי")
    newcomer.fill("input[name=password]", NEW_PASSWORD)
    newcomer.fill("input[name=confirm]", NEW_PASSWORD)
    newcomer.locator("button[type=submit]").click()
    newcomer.wait_for_url(re.compile(rf"{re.escape(server.url)}/app/.*"), timeout=WAIT)
    screenshot(newcomer, "invited-agent-in-the-workspace-390-rtl")

    admin.goto(f"{server.url}/app/admin/people")
    row = admin.locator("tr", has_text="noa@acme.example")
    assert "נועה לוי" in row.inner_text()


SIZES = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}


def printed_link(output: str) -> str:
    return "/" + re.search(r"https?://\S+?/((?:invite|login/reset)/[A-Za-z0-9_-]+)", output).group(1)


@pytest.mark.parametrize("language", ["en", "he"])
def test_people_and_password_screens_fit_a_phone_and_pass_axe(server, browser, language):
    import json

    slug = server.shell("from threadline.tenancy.models import Workspace; print(Workspace.objects.first().slug)")
    server.shell("from threadline.tenancy.models import User; "
                 f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language={language!r})")
    invite = printed_link(server.run("agent", "invite", "--email", f"axe-{language}@acme.example",
                                     "--workspace", slug).stdout)
    reset = printed_link(server.run("agent", "reset-password", "--email", ADMIN_EMAIL).stdout)
    person = server.shell("from threadline.tenancy.models import Membership; "
                          f"print(Membership.objects.get(user__email='axe-{language}@acme.example').pk)")
    locale = "he-IL" if language == "he" else "en-US"
    signed_in = ["/app/admin/people", f"/app/admin/people/{person}", "/app/admin/people/1?confirm=deactivate",
                 "/app/settings"]
    signed_out = ["/login/reset", invite, reset]
    report = {}
    admin = browser.new_context(viewport=SIZES["1280"], locale=locale).new_page()
    sign_in(admin, server.url)
    stranger = browser.new_context(viewport=SIZES["1280"], locale=locale).new_page()
    for page, paths in ((admin, signed_in), (stranger, signed_out)):
        for path in paths:
            for size, viewport in SIZES.items():
                page.set_viewport_size(viewport)
                page.goto(f"{server.url}{path}")
                assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth")
                if overflow > 0:
                    report[f"{path}@{size} overflow"] = overflow
                findings = axe_findings(page)
                if findings:
                    report[f"{path}@{size}"] = findings
    assert not report, json.dumps(report, indent=1, ensure_ascii=False)
