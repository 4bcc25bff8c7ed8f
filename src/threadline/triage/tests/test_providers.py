"""The optional providers against local fakes serving their documented shapes: Google Natural Language's
analyzeSentiment/classifyText with an API key, Amazon Comprehend's DetectSentiment signed with SigV4. A wrong
key, throttling, an outage or an unsupported language falls back to the word lists with the reason saying so."""

from __future__ import annotations

import pytest

from threadline.triage.engine import triage_post
from threadline.triage.policy import Policy
from threadline.triage.testkit import FakeComprehend, FakeNaturalLanguage
from threadline.triage.verdict import PublicPost


@pytest.fixture
def google():
    fake = FakeNaturalLanguage().start()
    yield fake
    fake.stop()


@pytest.fixture
def comprehend():
    fake = FakeComprehend().start()
    yield fake
    fake.stop()


def post(text: str, language: str | None = "en") -> PublicPost:
    return PublicPost(1, text, language, "instagram", "someone", 100, False, False)


def codes(verdict) -> list[str]:
    return [r.code for r in verdict.reasons]


def test_google_sentiment_and_categories_replace_the_word_lists(google):
    verdict = triage_post(post("Is the new phone case any good?"), Policy(provider=google.config(classify=True)))
    assert verdict.sentiment == 0.6 and "mobile & wireless" in verdict.topics and "apparel" not in verdict.topics
    assert verdict.category == "question" and codes(verdict)[-1] == "provider"
    assert str(verdict.reasons[-1]) == "Sentiment and category from Google Cloud Natural Language."
    sent = google.calls(":analyzeSentiment")[0].json()
    assert sent == {"document": {"type": "PLAIN_TEXT", "content": "Is the new phone case any good?", "language": "en"},
                    "encodingType": "UTF8"}
    assert google.calls(":classifyText")[0].json() == {"document": sent["document"]}
    negative = triage_post(post("the parcel never came"), Policy(provider=google.config()))
    assert negative.category == "complaint" and negative.sentiment == -0.8 and not google.calls(":classifyText")[1:]


def test_google_refusals_and_throttling_fall_back_to_the_word_lists(google):
    wrong = triage_post(post("my order #1234 never arrived"), Policy(provider=google.config(api_key="wrong")))
    assert (wrong.category, wrong.decision) == ("complaint", "move_private")
    assert str(wrong.reasons[-1]) == ("Google Cloud Natural Language could not be used (HTTP 400): the built-in "
                                      "word lists decided.")
    google.outage = (429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "Quota exceeded"}}, {})
    throttled = triage_post(post("thanks, amazing support!"), Policy(provider=google.config()))
    assert throttled.category == "praise" and "(rate limited)" in throttled.reasons[-1]
    google.outage = (503, {"error": {"code": 503, "status": "UNAVAILABLE", "message": "down"}}, {})
    assert "(HTTP 503)" in triage_post(post("hello?"), Policy(provider=google.config())).reasons[-1]
    google.stop()
    gone = triage_post(post("hello?"), Policy(provider=google.config()))
    assert "(could not connect)" in gone.reasons[-1] and gone.category == "question"


def test_comprehend_is_signed_and_its_scores_become_the_sentiment(comprehend):
    verdict = triage_post(post("The delivery was a bit slow to be honest"), Policy(provider=comprehend.config()))
    assert verdict.sentiment == pytest.approx(-0.91) and verdict.category == "complaint"
    assert codes(verdict)[-1] == "provider" and "Amazon Comprehend" in verdict.reasons[-1]
    call = comprehend.requests[0]
    assert call.headers["x-amz-target"] == "Comprehend_20171127.DetectSentiment"
    assert call.json() == {"Text": "The delivery was a bit slow to be honest", "LanguageCode": "en"}


def test_comprehend_bad_signature_throttling_and_unsupported_languages_fall_back(comprehend):
    bad = triage_post(post("thanks!"), Policy(provider=comprehend.config(secret_access_key="not-the-secret")))
    assert bad.category == "praise" and "(HTTP 400)" in bad.reasons[-1]
    comprehend.outage = (400, {"__type": "ThrottlingException", "message": "Rate exceeded"},
                         {"x-amzn-ErrorType": "ThrottlingException"})
    assert "(rate limited)" in triage_post(post("thanks!"), Policy(provider=comprehend.config())).reasons[-1]
    comprehend.outage = None
    before = len(comprehend.requests)
    hebrew = triage_post(post("ההזמנה לא הגיעה", "he"), Policy(provider=comprehend.config()))
    assert hebrew.category == "complaint" and "language he not supported" in hebrew.reasons[-1]
    assert len(comprehend.requests) == before  # no call for a language Comprehend does not take
