"""Article feedback: "was this helpful?" with an optional comment, through the real form (CSRF enforced),
bad input answered with the form again and a 4xx, a bot's honeypot ignored, throttled per client address."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils.encoding import iri_to_uri

from threadline.helpcenter.tests.builders import make_article, make_center, make_section
from threadline.knowledge.models import ArticleFeedback
from threadline.testing.factories import make_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(settings):
    settings.PUBLIC_URL = "http://testserver"
    admin = make_workspace("Acme")
    center = make_center(admin, "acme", languages=("en", "he"))
    section = make_section(center, {"en": "Orders", "he": "הזמנות"}, {"en": "Shipping", "he": "משלוחים"})
    return make_article(section, {"en": ("Track your parcel", "Open Orders."), "he": ("מעקב אחרי החבילה", "פותחים.")})


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


def page_and_token(browser: Client, path: str) -> tuple[str, str]:
    html = browser.get(path).content.decode()
    return html, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def feedback_url(article, language: str = "en") -> str:
    return f"/help/acme/{language}/articles/{article.pk}/feedback"


def article_url(article, language: str = "en") -> str:
    return iri_to_uri(f"/help/acme/{language}/articles/{article.pk}-{article.translations.get(language=language).slug}/")


def test_yes_is_recorded_on_the_translation_read(browser, article):
    _html, token = page_and_token(browser, article_url(article, "he"))
    answer = browser.post(feedback_url(article, "he"), {"csrfmiddlewaretoken": token, "helpful": "yes"})
    assert answer.status_code == 302 and answer["Location"] == article_url(article, "he") + "?feedback=sent#feedback"
    feedback = ArticleFeedback.objects.get()
    assert (feedback.translation.language, feedback.helpful, feedback.comment) == ("he", True, "")
    thanks = browser.get(answer["Location"]).content.decode()
    assert 'role="status"' in thanks


def test_no_with_a_comment_is_recorded(browser, article):
    _html, token = page_and_token(browser, article_url(article))
    answer = browser.post(feedback_url(article), {"csrfmiddlewaretoken": token, "helpful": "no",
                                                  "comment": "  It does not say where the tracking number is.  "})
    assert answer.status_code == 302
    feedback = ArticleFeedback.objects.get()
    assert (feedback.helpful, feedback.comment) == (False, "It does not say where the tracking number is.")


def test_without_the_csrf_token_nothing_is_recorded(browser, article):
    browser.get(article_url(article))
    assert browser.post(feedback_url(article), {"helpful": "yes"}).status_code == 403
    assert not ArticleFeedback.objects.exists()


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"helpful": "maybe"}, "helpful", "Answer yes or no."),
    ({}, "helpful", "Answer yes or no."),
    ({"helpful": "no", "comment": "x" * 2001}, "comment", "at most 2000 characters"),
    ({"helpful": "no", "comment": "Still lost", "email": "not-an-address"}, "email", "Enter a valid email address."),
])
def test_bad_input_shows_the_form_again_with_the_error(browser, article, data, field, message):
    _html, token = page_and_token(browser, article_url(article))
    answer = browser.post(feedback_url(article), {"csrfmiddlewaretoken": token, **data})
    assert answer.status_code == 400
    html = answer.content.decode()
    assert message in html and '<h1>Track your parcel</h1>' in html
    assert not ArticleFeedback.objects.exists()


def test_feedback_on_an_article_that_is_not_public_is_a_404(browser, article):
    _html, token = page_and_token(browser, article_url(article))
    article.internal_only = True
    article.save()
    assert browser.post(feedback_url(article), {"csrfmiddlewaretoken": token, "helpful": "yes"}).status_code == 404
    assert browser.get(feedback_url(article)).status_code == 405
    assert not ArticleFeedback.objects.exists()


def test_the_honeypot_thanks_a_bot_and_stores_nothing(browser, article):
    _html, token = page_and_token(browser, article_url(article))
    answer = browser.post(feedback_url(article), {"csrfmiddlewaretoken": token, "helpful": "no",
                                                  "comment": "cheap pills", "website": "http://spam.example"})
    assert answer.status_code == 302
    assert not ArticleFeedback.objects.exists()


def test_one_address_is_throttled_after_a_few_answers_on_one_article(browser, article):
    _html, token = page_and_token(browser, article_url(article))
    codes = [browser.post(feedback_url(article), {"csrfmiddlewaretoken": token, "helpful": "yes"}).status_code
             for _ in range(6)]
    assert codes == [302] * 5 + [429]
    assert ArticleFeedback.objects.count() == 5
    refused = browser.post(feedback_url(article), {"csrfmiddlewaretoken": token, "helpful": "yes"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many messages from your address" in refused.content.decode()
    other_address = browser.post(feedback_url(article), {"csrfmiddlewaretoken": token, "helpful": "yes"},
                                 REMOTE_ADDR="198.51.100.7")
    assert other_address.status_code == 302


def test_feedback_on_another_workspaces_article_is_a_404(browser, article):
    other = make_workspace("Globex")
    center = make_center(other, "globex", languages=("en",), name="Globex Help")
    theirs = make_article(make_section(center, {"en": "Things"}, {"en": "Stuff"}), {"en": ("Globex recipe", "x")})
    _html, token = page_and_token(browser, article_url(article))
    answer = browser.post(f"/help/acme/en/articles/{theirs.pk}/feedback", {"csrfmiddlewaretoken": token,
                                                                          "helpful": "no", "comment": "hm"})
    assert answer.status_code == 404 and "Globex" not in answer.content.decode()
    assert not ArticleFeedback.objects.exists()
