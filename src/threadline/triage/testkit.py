"""Local fakes of Google Cloud Natural Language and Amazon Comprehend, in their documented request and response
shapes, for the provider tests (on the bot platforms' loopback server, `botplatforms.testkit.FakePlatform`).

- `FakeNaturalLanguage`: `POST /v1/documents:analyzeSentiment?key=…` and `…:classifyText?key=…`; a wrong key is
  a 400 `INVALID_ARGUMENT` "API key not valid", a missing document content a 400; `score(text)` decides the
  sentiment, `categories(text)` the categories.
- `FakeComprehend`: `POST /` with `X-Amz-Target: Comprehend_20171127.DetectSentiment`, checking the Signature
  Version 4 signature (service `comprehend`) as AWS does; `scores(text)` gives `SentimentScore`.
Set `outage` to answer every request with one error (throttling, 5xx)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from threadline.botplatforms.testkit import (
    Answer,
    FakePlatform,
    Request,
    aws_error,
    expected_signature,
    google_error,
)


class FakeNaturalLanguage(FakePlatform):
    def __init__(self) -> None:
        super().__init__()
        self.api_key = "AIza" + secrets.token_urlsafe(24)
        self.score: Callable[[str], float] = lambda text: -0.8 if "never" in text else 0.6
        self.categories: Callable[[str], list[dict[str, Any]]] = lambda text: [
            {"name": "/Internet & Telecom/Mobile & Wireless", "confidence": 0.71},
            {"name": "/Shopping/Apparel", "confidence": 0.2}]

    def config(self, **overrides: Any) -> dict[str, Any]:
        return {"kind": "google", "api_key": self.api_key, "base_url": self.url, **overrides}

    def dispatch(self, request: Request) -> Answer:
        if parse_qs(request.query).get("key") != [self.api_key]:
            return google_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        document = (request.json() or {}).get("document") or {}
        text = document.get("content")
        if document.get("type") != "PLAIN_TEXT" or not text:
            return google_error(400, "INVALID_ARGUMENT", "Invalid document: content is empty.")
        if request.path == "/v1/documents:analyzeSentiment":
            score = self.score(text)
            return 200, {"documentSentiment": {"magnitude": abs(score) * 2, "score": score},
                         "language": document.get("language", "en"),
                         "sentences": [{"text": {"content": text, "beginOffset": 0},
                                        "sentiment": {"magnitude": abs(score), "score": score}}]}, {}
        if request.path == "/v1/documents:classifyText":
            return 200, {"categories": self.categories(text)}, {}
        return google_error(404, "NOT_FOUND", "Method not found.")


class FakeComprehend(FakePlatform):
    def __init__(self, region: str = "eu-west-1") -> None:
        super().__init__()
        self.region = region
        self.access_key = "AKIA" + secrets.token_hex(8).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self.scores: Callable[[str], dict[str, float]] = lambda text: {
            "Positive": 0.02, "Negative": 0.93, "Neutral": 0.04, "Mixed": 0.01}

    def config(self, **overrides: Any) -> dict[str, Any]:
        return {"kind": "aws", "access_key_id": self.access_key, "secret_access_key": self.secret_key,
                "region": self.region, "base_url": self.url, **overrides}

    def _refused(self, request: Request) -> Answer | None:
        algorithm, _sp, rest = request.headers.get("authorization", "").partition(" ")
        fields = dict(part.strip().partition("=")[::2] for part in rest.split(","))
        credential = fields.get("Credential", "").split("/", 1)
        if algorithm != "AWS4-HMAC-SHA256" or len(credential) != 2 or credential[0] != self.access_key:
            return aws_error(400, "UnrecognizedClientException", "The security token included in the request is invalid.")
        scope = credential[1]
        if scope != f"{request.headers.get('x-amz-date', '')[:8]}/{self.region}/comprehend/aws4_request":
            return aws_error(400, "InvalidSignatureException", "Credential should be scoped to a valid region.")
        signed = fields.get("SignedHeaders", "").split(";")
        if not {"host", "x-amz-target"} <= set(signed) or not hmac.compare_digest(
                expected_signature(request, self.secret_key, scope, signed), fields.get("Signature", "")):
            return aws_error(400, "InvalidSignatureException", "The request signature we calculated does not match "
                             "the signature you provided.")
        return None

    def dispatch(self, request: Request) -> Answer:
        refused = self._refused(request)
        if refused:
            return refused
        if request.headers.get("x-amz-target") != "Comprehend_20171127.DetectSentiment" or \
                request.headers.get("content-type") != "application/x-amz-json-1.1":
            return aws_error(400, "UnknownOperationException", "")
        body = request.json()
        if not body.get("Text") or body.get("LanguageCode") not in {"en", "es", "fr", "de", "it", "pt"}:
            return aws_error(400, "ValidationException", "Invalid LanguageCode or Text")
        scores = self.scores(body["Text"])
        return 200, {"Sentiment": max(scores, key=scores.get).upper(), "SentimentScore": scores}, {}
