"""Optional sentiment/classification providers over their documented HTTP APIs, through the one outbound
client (`core.http`). Any failure (transport, 4xx/5xx, throttling, a language the provider does not take,
an answer not in the documented shape) is a `ProviderUnavailable`: triage then decides from the word lists
and says so in the reasons.

- Google Cloud Natural Language v1, API key: `POST {base}/v1/documents:analyzeSentiment?key=…` with
  `{"document": {"type": "PLAIN_TEXT", "content", "language"?}, "encodingType": "UTF8"}` →
  `documentSentiment.score` (-1..1); `POST {base}/v1/documents:classifyText?key=…` with the same document →
  `categories[].name` ("/Internet & Telecom/Mobile & Wireless"), kept as topics when `confidence` ≥ 0.5.
- Amazon Comprehend `DetectSentiment`: `POST https://comprehend.{region}.amazonaws.com/` with
  `X-Amz-Target: Comprehend_20171127.DetectSentiment`, `Content-Type: application/x-amz-json-1.1`,
  `{"Text", "LanguageCode"}`, signed with Signature Version 4 (service `comprehend`) → `SentimentScore`
  (`Positive` − `Negative`). Comprehend's sentiment takes en, es, fr, de, it, pt, ar, hi, ja, ko, zh, zh-TW:
  Hebrew, Persian, Thai and Czech posts stay with the word lists without a call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from threadline.botplatforms import sigv4
from threadline.core import http
from threadline.core.destinations import DestinationRefused

GOOGLE_BASE = "https://language.googleapis.com"
GOOGLE_NAME = "Google Cloud Natural Language"
AWS_NAME = "Amazon Comprehend"
AWS_TARGET = "Comprehend_20171127.DetectSentiment"
AWS_LANGUAGES = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"})
MAX_TEXT = 4500  # Comprehend: 5,000 bytes of UTF-8 at most; Google bills per 1,000 characters
MIN_CONFIDENCE = 0.5
TIMEOUT = httpx.Timeout(5.0, connect=3.0)

# field -> required; secrets are never shown back and a save that leaves them empty keeps them
PROVIDER_FIELDS: dict[str, dict[str, bool]] = {
    "google": {"api_key": True, "base_url": False, "classify": False},
    "aws": {"access_key_id": True, "secret_access_key": True, "region": True, "base_url": False},
}
SECRET_FIELDS = frozenset({"api_key", "secret_access_key"})
NAMES = {"google": GOOGLE_NAME, "aws": AWS_NAME}


class ProviderUnavailable(Exception):
    """The provider could not give a reading; `str()` says why in a few words (no secrets)."""


@dataclass(frozen=True)
class ProviderReading:
    sentiment: float
    topics: tuple[str, ...] = ()


def _post(url: str, body: dict[str, Any], headers: dict[str, str], *, sign: Any = None) -> dict[str, Any]:
    content = json.dumps(body, ensure_ascii=False).encode()
    if sign is not None:
        headers = sign(url, content, headers)
    try:
        response = http.post(url, content=content, headers=headers, timeout=TIMEOUT)
    except (DestinationRefused, httpx.HTTPError) as exc:
        raise ProviderUnavailable("could not connect") from exc
    if response.status_code == 429 or (response.status_code == 400 and b"Throttl" in response.body):
        raise ProviderUnavailable("rate limited")
    if response.status_code >= 400:
        raise ProviderUnavailable(f"HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError as exc:
        raise ProviderUnavailable("not JSON") from exc
    if not isinstance(answer, dict):
        raise ProviderUnavailable("unexpected answer")
    return answer


def _score(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProviderUnavailable("unexpected answer")
    return max(-1.0, min(1.0, float(value)))


def google(text: str, language: str | None, config: dict[str, Any]) -> ProviderReading:
    base = (config.get("base_url") or GOOGLE_BASE).rstrip("/")
    key = quote(str(config.get("api_key", "")), safe="")
    document: dict[str, Any] = {"type": "PLAIN_TEXT", "content": text[:MAX_TEXT]}
    if language:
        document["language"] = language
    headers = {"Content-Type": "application/json; charset=utf-8"}
    answer = _post(f"{base}/v1/documents:analyzeSentiment?key={key}", {"document": document, "encodingType": "UTF8"},
                   headers)
    sentiment = _score((answer.get("documentSentiment") or {}).get("score"))
    topics: list[str] = []
    if config.get("classify") in (True, "1", "true", "on", "yes"):
        try:
            classified = _post(f"{base}/v1/documents:classifyText?key={key}", {"document": document}, headers)
        except ProviderUnavailable:
            classified = {}  # classifyText refuses short texts (fewer than 20 words): the sentiment still counts
        for category in classified.get("categories") or []:
            if isinstance(category, dict) and float(category.get("confidence") or 0) >= MIN_CONFIDENCE:
                leaf = str(category.get("name", "")).rstrip("/").rsplit("/", 1)[-1].strip().lower()
                if leaf:
                    topics.append(leaf)
    return ProviderReading(sentiment, tuple(topics))


def aws(text: str, language: str | None, config: dict[str, Any]) -> ProviderReading:
    code = (language or "").split("-")[0].lower()
    if code not in AWS_LANGUAGES:
        raise ProviderUnavailable(f"language {language or '?'} not supported")
    region = str(config.get("region", "")).strip()
    url = (config.get("base_url") or f"https://comprehend.{region}.amazonaws.com").rstrip("/") + "/"
    payload = text.encode()[:MAX_TEXT].decode(errors="ignore")

    def sign(target: str, content: bytes, headers: dict[str, str]) -> dict[str, str]:
        return sigv4.sign("POST", target, headers=headers, body=content, access_key=config["access_key_id"],
                          secret_key=config["secret_access_key"], region=region, service="comprehend")

    answer = _post(url, {"Text": payload, "LanguageCode": code},
                   {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": AWS_TARGET}, sign=sign)
    scores = answer.get("SentimentScore") or {}
    return ProviderReading(_score(_score(scores.get("Positive")) - _score(scores.get("Negative"))))


READERS = {"google": google, "aws": aws}


def reading(text: str, language: str | None, provider: dict[str, Any]) -> ProviderReading:
    """The provider's reading of `text`; ProviderUnavailable when it cannot give one."""
    reader = READERS.get(provider.get("kind", ""))
    if reader is None:
        raise ProviderUnavailable("not configured")
    if not text.strip():
        raise ProviderUnavailable("empty text")
    return reader(text, language, provider)
