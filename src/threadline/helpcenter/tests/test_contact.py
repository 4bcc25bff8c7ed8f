""""Contact us" and a "No" with a comment and an address: the customer's message goes through the portal
channel's inbound pipeline (portal.actions.do_submit_request) and becomes a conversation once the worker ran;
bad input, oversized files, a bot's honeypot and a flood from one address are refused with clear answers."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.encoding import iri_to_uri

from threadline.channels.models import InboundEvent
from threadline.conversations.models import Message
from threadline.helpcenter.tests.builders import make_article, make_center, make_section
from threadline.knowledge.models import ArticleFeedback
from threadline.testing.factories import make_workspace

pytestmark = pytest.mark.django_db
CONTACT = "/help/acme/he/contact/"


@pytest.fixture
def center(settings):
    settings.PUBLIC_URL = "http://testserver"
    admin = make_workspace("Acme")
    return make_center(admin, "acme", languages=("en", "he"))


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


def token_of(browser: Client, path: str) -> str:
    answer = browser.get(path)
    assert answer.status_code == 200
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.content.decode()).group(1)


def form(token: str, **overrides) -> dict:
    return {"csrfmiddlewaretoken": token, "name": "נועה כהן", "email": "Noa@Example.com",
            "subject": "ההזמנה לא הגיעה", "message": "הזמנתי לפני שבועיים ועדיין לא קיבלתי.", **overrides}


def test_contact_us_becomes_a_portal_conversation_with_its_files(browser, center, run_jobs):
    html = browser.get(CONTACT).content.decode()
    assert '<html lang="he" dir="rtl">' in html and 'enctype="multipart/form-data"' in html
    token = token_of(browser, CONTACT)
    receipt = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt", content_type="application/pdf")
    answer = browser.post(CONTACT, form(token, files=[receipt]))
    assert answer.status_code == 302 and answer["Location"] == CONTACT + "?sent=1"
    assert 'role="status"' in browser.get(answer["Location"]).content.decode()
    event = InboundEvent.objects.get()
    assert event.workspace_id == center.workspace_id
    run_jobs()
    message = Message.objects.get(channel__kind="portal")
    assert message.text == "הזמנתי לפני שבועיים ועדיין לא קיבלתי."
    assert message.metadata["portal"]["source"] == "help_center"
    assert message.conversation.subject == "ההזמנה לא הגיעה"
    assert message.conversation.contact.attributes["unverified_email"] == "noa@example.com"
    assert [(a.filename, a.size) for a in message.attachments.all()] == [("receipt.pdf", 16)]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"email": ""}, "Enter your email address."),
    ({"email": "noa-at-example"}, "Enter a valid email address."),
    ({"subject": "  "}, "Enter a subject."),
    ({"message": ""}, "Write your message."),
])
def test_bad_input_shows_the_form_again_with_the_values_kept(browser, center, overrides, message):
    token = token_of(browser, "/help/acme/en/contact/")
    answer = browser.post("/help/acme/en/contact/", form(token, **overrides), HTTP_ACCEPT_LANGUAGE="he")
    assert answer.status_code == 400
    html = answer.content.decode()
    assert message in html and 'aria-invalid="true"' in html
    assert "נועה כהן" in html  # what was typed is kept
    assert not InboundEvent.objects.exists()


def test_a_blocked_file_type_is_refused_with_its_reason(browser, center):
    token = token_of(browser, "/help/acme/en/contact/")
    program = SimpleUploadedFile("setup.exe", b"MZ\x90\x00", content_type="application/x-msdownload")
    answer = browser.post("/help/acme/en/contact/", form(token, files=[program]))
    assert answer.status_code == 400
    assert "Files of this type are not accepted: setup.exe" in answer.content.decode()
    assert not InboundEvent.objects.exists()


def test_too_many_or_too_large_files_are_refused(browser, center, settings):
    token = token_of(browser, "/help/acme/en/contact/")
    files = [SimpleUploadedFile(f"p{n}.png", b"\x89PNG....", content_type="image/png") for n in range(6)]
    answer = browser.post("/help/acme/en/contact/", form(token, files=files))
    assert answer.status_code == 400 and "At most 5 files can be attached." in answer.content.decode()
    settings.THREADLINE = {**settings.THREADLINE, "ATTACHMENT_MAX_BYTES": 1024}
    big = SimpleUploadedFile("scan.pdf", b"%PDF" + b"0" * 2 * 1024 * 1024, content_type="application/pdf")
    answer = browser.post("/help/acme/en/contact/", form(token, files=[big]))
    assert answer.status_code == 413 and "larger than" in answer.content.decode()
    assert not InboundEvent.objects.exists()


def test_without_csrf_or_with_the_honeypot_nothing_is_stored(browser, center):
    assert browser.post(CONTACT, form("")).status_code == 403
    token = token_of(browser, CONTACT)
    assert browser.post(CONTACT, form(token, website="http://cheap.example")).status_code == 302
    assert not InboundEvent.objects.exists()


def test_one_address_is_throttled(browser, center):
    token = token_of(browser, CONTACT)
    codes = [browser.post(CONTACT, form(token)).status_code for _ in range(6)]
    assert codes == [302] * 5 + [429]
    assert InboundEvent.objects.count() == 5


def test_a_no_with_a_comment_and_an_email_opens_a_conversation(browser, center, run_jobs):
    section = make_section(center, {"en": "Orders"}, {"en": "Shipping"})
    article = make_article(section, {"en": ("Track your parcel", "Open Orders.")})
    path = iri_to_uri(f"/help/acme/en/articles/{article.pk}-track-your-parcel/")
    token = token_of(browser, path)
    answer = browser.post(f"/help/acme/en/articles/{article.pk}/feedback", {
        "csrfmiddlewaretoken": token, "helpful": "no", "comment": "Where is the tracking number?",
        "email": "dana@example.com"})
    assert answer["Location"] == path + "?feedback=forwarded#feedback"
    assert ArticleFeedback.objects.get().comment == "Where is the tracking number?"
    run_jobs()
    message = Message.objects.get(channel__kind="portal")
    assert message.metadata["portal"]["source"] == "article_feedback"
    assert message.text.startswith("Where is the tracking number?") and f"http://testserver{path}" in message.text
    assert "Track your parcel" in message.conversation.subject
    # a "no" without an address is feedback only
    browser.post(f"/help/acme/en/articles/{article.pk}/feedback", {
        "csrfmiddlewaretoken": token, "helpful": "no", "comment": "Still lost"})
    assert ArticleFeedback.objects.count() == 2 and InboundEvent.objects.count() == 1
