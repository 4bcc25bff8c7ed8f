"""Acceptance of issue 12, in Debian's Chromium against a real `threadline serve` started as `make run` starts it
(a fresh data directory, no admin password: the server prints a one-time setup link).

A new admin opens the setup link, sets a password and, using only the browser, creates a team, an email channel
(sending through an SMTP server the test runs), a web chat channel, invites an agent (the invitation is mailed to
that SMTP server), sets business hours and an SLA policy, an automation assigning new conversations to the agent
and a canned reply with a /shortcut. The agent joins through the mailed link; a visitor writes in the widget
embedded with the channel's snippet on another site and a customer mails the channel's address over SMTP to the
server's listener; both land assigned to the agent with an SLA countdown on their rows; the agent answers each
with `/shortcut` in the composer; the visitor's widget shows the answer and the email answer reaches the relay.

The flow runs in English at 1280×800 and in Hebrew at 390×844 (the languages come from the browser's
Accept-Language); the agent's part also in the two other combinations. Every step is screenshotted to
test-artifacts/acceptance/<language>-<size>/, and axe-core checks every admin screen visited and the agent
workspace (report in test-artifacts/axe/): no critical or serious finding.
"""

from __future__ import annotations

import json
import re
import smtplib
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest

from threadline.channels.email.testkit import SmtpSink, free_port
from threadline.testing.server import ServerProcess, migrated_copy
from threadline.web.testkit import ARTIFACTS, ShopSite, axe_findings, private_redis_url, settle

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
WAIT = 30_000  # CI machines are loaded: wait on visible state, generously
SIZES = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}
LOCALES = {"en": "en-US", "he": "he-IL"}
ADMIN_PASSWORD = "harbour-quince-58-softly"
AGENT_PASSWORD = "plum-orchard-velvet-42"
AGENT_EMAIL = "noa@acme.example"
SUPPORT_ADDRESS = "support@acme.example"
SHORTCUT = "thanks"
CANNED = "Thank you for writing to Acme, we are on it."


class Steps:
    """Numbered screenshots of one run, and the axe-core findings of every screen checked."""

    def __init__(self, language: str, size: str, prefix: str = "") -> None:
        self.language, self.size, self.prefix = language, size, prefix
        self.name = f"{language}-{size}"
        self.folder = ARTIFACTS / "acceptance" / self.name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob(f"{prefix}[0-9][0-9]-*.png"):
            old.unlink()
        self.count = 0
        self.axe: dict[str, list[dict]] = {}
        self.checked: list[str] = []

    def shot(self, page, step: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.prefix}{self.count:02d}-{step}.png"))

    def check(self, page, screen: str) -> None:
        settle(page)
        findings = axe_findings(page)
        self.checked.append(screen)
        if findings:
            self.axe[screen] = findings

    def write_axe_report(self) -> Path:
        folder = ARTIFACTS / "axe"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"acceptance-{self.prefix}{self.name}.json"
        path.write_text(json.dumps({"checked": self.checked, "critical_or_serious": self.axe}, indent=1,
                                   ensure_ascii=False))
        return path


class SnippetSite(ShopSite):
    """The customer's site (another origin) with the install snippet exactly as the channel screen shows it."""

    def __init__(self, snippet: str) -> None:
        super().__init__("", 0)
        self.snippet = snippet

    def page(self) -> bytes:
        return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
                "content='width=device-width, initial-scale=1'><title>Acme shop</title></head><body>"
                f"<h1>Acme shop</h1><p>Everything for your garden.</p>{self.snippet}</body></html>").encode()


@pytest.fixture(scope="module")
def sink():
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture
def server(request, tmp_path_factory, sink):
    """`threadline serve` on a fresh data directory (its database already migrated, nothing else): no admin
    password in the environment; the installation's mail and the tests' loopback relay allowed."""
    data_dir = tmp_path_factory.mktemp("acceptance") / "data"
    env = {"THREADLINE_SYSTEM_MAIL_URL": sink.url, "THREADLINE_OUTBOUND_ALLOW_PRIVATE": "1"}
    redis = private_redis_url()
    if redis:
        env["THREADLINE_REDIS_URL"] = redis
    smtp_port = free_port()
    with migrated_copy(request, tmp_path_factory, data_dir) as url, \
            ServerProcess(data_dir, database_url=url, args=("--smtp-port", str(smtp_port)), **env) as proc:
        proc.start()
        proc.smtp_port = smtp_port
        yield proc


def setup_link(server: ServerProcess) -> str:
    found = re.search(r"(https?://\S+/setup/[A-Za-z0-9_-]+/)", server.output())
    assert found, server.output()
    return found.group(1)


def notice(page) -> None:
    """The screen's message after a POST and redirect (a success, not an error list)."""
    page.locator("#main .notice, #main p.error").first.wait_for(timeout=WAIT)
    assert page.locator("#main p.error").count() == 0, page.locator("#main").inner_text()


def mails_to(sink: SmtpSink, address: str, text: str = "", timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in list(sink.handler.received):
            if address in mail.rcpt_tos and text in mail.data.decode("utf-8", "replace"):
                return mail
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address} with {text!r}")


def admin_sets_up_the_workspace(browser, server, sink, steps: Steps, language: str, size: str) -> dict:
    link = setup_link(server)
    base = link.split("/setup/")[0]
    admin = browser.new_context(viewport=SIZES[size], locale=LOCALES[language]).new_page()
    admin.goto(link)
    steps.shot(admin, "setup-link")
    steps.check(admin, "/setup")
    admin.fill("input[name=password]", ADMIN_PASSWORD)
    admin.fill("input[name=confirm]", ADMIN_PASSWORD)
    admin.locator("main button[type=submit]").click()
    admin.wait_for_url(f"{base}/app/**", timeout=WAIT)
    assert admin.evaluate("document.documentElement.lang").startswith(language)
    assert admin.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
    steps.shot(admin, "signed-in")

    admin.goto(f"{base}/app/admin/")
    steps.shot(admin, "administration")
    steps.check(admin, "/app/admin/")

    # a team
    admin.goto(f"{base}/app/admin/teams")
    steps.check(admin, "/app/admin/teams")
    admin.locator("form[action='/app/admin/teams'] input[name=name]").fill("Garden desk")
    admin.locator("form[action='/app/admin/teams'] button[type=submit]").click()
    notice(admin)
    card = admin.locator("details.svc-card", has_text="Garden desk")
    card.locator("summary").click()
    card.locator("select[name=policy]").select_option("least_loaded")  # hand conversations out
    card.locator("button.primary").click()
    notice(admin)
    steps.shot(admin, "team")

    # an email channel, sending through the test's SMTP server
    admin.goto(f"{base}/app/admin/channels/new")
    steps.check(admin, "/app/admin/channels/new")
    admin.click('a[href="/app/admin/channels/new/email"]')
    admin.locator("#f-address").wait_for(timeout=WAIT)
    steps.check(admin, "/app/admin/channels/new/email")
    admin.fill("#f-name", "Support mail")
    admin.fill("#f-address", SUPPORT_ADDRESS)
    admin.fill("#f-display_name", "Acme support")
    admin.fill("#f-relay_url", sink.url)
    steps.shot(admin, "email-channel-form")
    admin.click("form.ch-form button[type=submit]")
    notice(admin)  # the channel's page, with its settings, DNS records and "Send a test"
    steps.shot(admin, "email-channel")
    steps.check(admin, "/app/admin/channels/<email>")

    # a web chat channel, and its install snippet
    admin.goto(f"{base}/app/admin/channels/new/webchat")
    admin.fill("#f-name", "Website")
    admin.fill("#f-title", "Acme live help")
    admin.fill("#f-greetings", "en: Hi! Ask us anything.\nhe: שלום! אפשר לשאול אותנו הכול.")
    admin.click("form.ch-form button[type=submit]")
    admin.locator("#snippet").wait_for(timeout=WAIT)
    snippet = admin.locator("#snippet").inner_text()
    assert "/widget.js" in snippet
    admin.locator("#widget-preview").scroll_into_view_if_needed()
    steps.shot(admin, "webchat-channel")
    steps.check(admin, "/app/admin/channels/<webchat>")

    # the agent, invited by email into the team
    admin.goto(f"{base}/app/admin/people")
    steps.check(admin, "/app/admin/people")
    invite = admin.locator("form[action='/app/admin/people/invite']")
    invite.locator("input[name=email]").fill(AGENT_EMAIL)
    assert invite.locator("input[name=skills]").input_value() == ""  # was "None"
    invite.locator("input[name=team_ids]").first.check()
    invite.locator("button[type=submit]").click()
    admin.locator("tr", has_text=AGENT_EMAIL).wait_for(timeout=WAIT)
    steps.shot(admin, "agent-invited")

    # business hours, around the clock (the SLA below counts in them whatever the hour of the run)
    admin.goto(f"{base}/app/admin/hours")
    steps.check(admin, "/app/admin/hours")
    new = admin.locator("form[action='/app/admin/hours']")
    new.locator("input[name=name]").fill("Around the clock")
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        new.locator(f"input[name={day}_start]").first.fill("00:00")
        new.locator(f"input[name={day}_end]").first.fill("23:59")
    new.locator("select[name=brand_id]").select_option(index=1)  # the brand's default schedule
    new.locator("button[type=submit]").click()
    notice(admin)
    steps.shot(admin, "business-hours")

    # an SLA policy: a first response within an hour, counted in those hours
    admin.goto(f"{base}/app/admin/sla")
    steps.check(admin, "/app/admin/sla")
    new = admin.locator("form[action='/app/admin/sla']")
    new.locator("input[name=name]").fill("First answer within the hour")
    new.locator("input[name=first_response_minutes]").fill("60")
    new.locator("select[name=schedule_id]").select_option(label="Around the clock")
    new.locator("button[type=submit]").click()
    notice(admin)
    steps.shot(admin, "sla-policy")

    # a routing rule: web chat and email to the team (and so to the agent, its member online)
    admin.goto(f"{base}/app/admin/routing")
    steps.check(admin, "/app/admin/routing")
    new = admin.locator("form[action='/app/admin/routing']")
    new.locator("input[name=name]").fill("Chat and mail to the garden desk")
    new.locator("input[name=channel_kinds][value=webchat]").check()
    new.locator("input[name=channel_kinds][value=email]").check()
    new.locator("select[name=team_ids]").first.select_option(label="Garden desk")
    new.locator("button[type=submit]").click()
    notice(admin)
    steps.shot(admin, "routing-rule")

    # an automation: messages about invoices are tagged and urgent
    admin.goto(f"{base}/app/admin/automations/new")
    steps.check(admin, "/app/admin/automations/new")
    admin.fill("#automation-builder input[name=name]", "Invoices are urgent")
    admin.check("#automation-builder input[name=events][value='message.received']")
    condition = admin.locator("[data-rows=condition] [data-row]").first
    condition.locator("input[name=cond_field]").fill("message.text")
    condition.locator("select[name=cond_op]").select_option("contains_any")
    condition.locator("input[name=cond_value]").fill("invoice, חשבונית")
    actions = admin.locator("[data-rows=action] [data-row]")
    actions.first.locator("select[name=act_type]").select_option("add_tags")
    actions.first.locator("input[name=act_value]").fill("billing")
    admin.click("button[data-add=action]")
    actions.last.locator("select[name=act_type]").select_option("set_priority")
    actions.last.locator("input[name=act_value]").fill("urgent")
    steps.shot(admin, "automation-builder")
    admin.click("#automation-builder button.primary")
    notice(admin)
    steps.shot(admin, "automation")

    # a canned reply with a /shortcut
    admin.goto(f"{base}/app/admin/replies")
    steps.check(admin, "/app/admin/replies")
    admin.click("#canned details.admin-add summary")  # "Add a canned reply"
    new = admin.locator("form[action='/app/admin/replies']")
    new.locator("input[name=name]").fill("Thanks")
    new.locator("input[name=shortcut]").fill(SHORTCUT)
    new.locator("textarea[name=text_0]").fill(CANNED)
    new.locator("button[type=submit]").click()
    notice(admin)
    steps.shot(admin, "canned-reply")
    admin.context.close()
    return {"base": base, "snippet": snippet}


def agent_answers_chat_and_email(browser, server, sink, steps: Steps, setup: dict, language: str, size: str,
                                 *, join: bool) -> None:
    base = setup["base"]
    tag = uuid.uuid4().hex[:6]
    context = browser.new_context(viewport=SIZES[size], locale=LOCALES[language], timezone_id="Asia/Jerusalem")
    agent = context.new_page()
    if join:
        path = re.search(r"https?://[^/\s]+(/invite/[A-Za-z0-9_-]+)",
                         mails_to(sink, AGENT_EMAIL).message.get_body(("plain",)).get_content()).group(1)
        agent.goto(f"{base}{path}")
        assert agent.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
        steps.shot(agent, "invitation")
        steps.check(agent, "/invite")
        agent.fill("input[name=name]", "נועה לוי" if language == "he" else "Noa Levi")
        agent.fill("input[name=password]", AGENT_PASSWORD)
        agent.fill("input[name=confirm]", AGENT_PASSWORD)
        agent.locator("main button[type=submit]").click()
    else:
        agent.goto(f"{base}/login")
        agent.fill("input[name=email]", AGENT_EMAIL)
        agent.fill("input[name=password]", AGENT_PASSWORD)
        agent.locator("form[action='/login'] button[type=submit]").click()
    agent.wait_for_url(re.compile(rf"{re.escape(base)}/app/.*"), timeout=WAIT)
    if not agent.evaluate("document.documentElement.lang").startswith(language):  # chosen when they joined
        agent.goto(f"{base}/app/settings")
        preferences = agent.locator("form[action='/app/x/preferences']")
        preferences.locator("select[name=language]").select_option(language)
        preferences.locator("button[type=submit]").click()
        agent.wait_for_function(f"(document.documentElement?.lang ?? '').startsWith('{language}')", timeout=WAIT)
        steps.shot(agent, "agent-language")
        agent.goto(f"{base}/app/")
    assert agent.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
    agent.locator("#list-pane").wait_for(timeout=WAIT)
    agent.goto(f"{base}/app/?view=mine")  # what reaches this list was routed to them
    agent.locator("a[data-view=mine][aria-current=page]").first.wait_for(state="attached", timeout=WAIT)
    steps.shot(agent, "agent-workspace")
    steps.check(agent, "/app/ (agent)")

    # a visitor writes in the widget on the customer's site
    site = SnippetSite(setup["snippet"]).start()
    try:
        visitor = browser.new_context(viewport=SIZES[size], locale=LOCALES[language])
        shop = visitor.new_page()
        shop.goto(site.url)
        shop.click("#threadline-launcher")
        frame = shop.frame_locator("#threadline-frame")
        frame.locator("#availability.online").wait_for(timeout=WAIT)  # connected, and the agent is online
        frame.locator("#text").fill(f"Hello, my seeds {tag} never came")
        frame.locator("#text").press("Enter")
        frame.locator(".msg.in:not(.pending) .bubble", has_text=tag).wait_for(timeout=WAIT)
        steps.shot(shop, "visitor-writes")

        # a customer mails the channel's address, over SMTP to the server's listener
        mail = EmailMessage()
        customer = f"dana.{tag}@example.net"  # a new customer each run: a new conversation with its SLA
        mail["From"] = f"Dana Cohen <{customer}>"
        mail["To"] = SUPPORT_ADDRESS
        mail["Subject"] = f"Invoice {tag}"
        mail["Message-ID"] = f"<{tag}@example.net>"
        mail.set_content(f"Hello, invoice {tag} is missing the VAT number.")
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
            smtp.send_message(mail)

        for kind, text, message in (("chat", f"seeds {tag}", f"seeds {tag}"),
                                    ("email", f"Invoice {tag}", f"invoice {tag}")):
            row = agent.locator(".row", has_text=text)
            row.wait_for(timeout=WAIT)  # routed to the agent: in their list without a reload
            row.locator(".sla").wait_for(timeout=WAIT)  # the SLA countdown on the row
            steps.shot(agent, f"{kind}-arrives-with-sla")
            row.locator(".row-link").click()
            agent.locator("#timeline .message.in", has_text=message).wait_for(timeout=WAIT)
            agent.click("#composer-text")
            agent.keyboard.type(f"/{SHORTCUT}")
            agent.locator("#mention-menu li", has_text=f"/{SHORTCUT}").wait_for(timeout=WAIT)
            steps.shot(agent, f"{kind}-canned-reply-menu")
            agent.keyboard.press("Enter")
            playwright.expect(agent.locator("#composer-text")).to_have_value(CANNED, timeout=WAIT)
            agent.click("#send-button")
            agent.locator("#timeline .message.out", has_text=CANNED).wait_for(timeout=WAIT)
            steps.shot(agent, f"{kind}-answered")
            if kind == "chat":
                steps.check(agent, "/app/c/<chat> (agent)")
                frame.locator(".msg.out .bubble", has_text=CANNED).wait_for(timeout=WAIT)
                steps.shot(shop, "visitor-sees-the-answer")
            else:
                reply = mails_to(sink, customer, tag)
                assert CANNED in reply.message.get_body(("plain",)).get_content()
            if size == "390":  # stacked screens: back to the list
                agent.goto(f"{base}/app/?view=mine")
        visitor.close()
    finally:
        site.stop()
    context.close()


@pytest.mark.parametrize(("language", "size"), [("en", "1280"), ("he", "390")])
def test_a_new_admin_sets_up_support_in_the_browser_and_the_agent_answers(server, sink, browser, language, size):
    sink.handler.received.clear()
    steps = Steps(language, size)
    setup = admin_sets_up_the_workspace(browser, server, sink, steps, language, size)
    agent_answers_chat_and_email(browser, server, sink, steps, setup, language, size, join=True)
    # the agent's part at the other size in the other language too
    other = Steps("he" if language == "en" else "en", "1280" if size == "390" else "390", prefix="agent-")
    agent_answers_chat_and_email(browser, server, sink, other, setup, other.language, other.size, join=False)
    for run in (steps, other):
        report = run.write_axe_report()
        assert not run.axe, f"{report}:\n" + json.dumps(run.axe, indent=1, ensure_ascii=False)
