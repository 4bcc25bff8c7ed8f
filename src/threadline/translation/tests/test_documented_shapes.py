"""The providers read the answers their API references show (`fixtures/documented.json`), served as they are by
the local server: independent of the fake's own generated answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from threadline.translation.base import (
    Call,
    ProviderAuthFailed,
    ProviderQuotaExhausted,
    ProviderRateLimited,
)
from threadline.translation.registry import provider_for

DOCS = json.loads((Path(__file__).parents[1] / "fixtures" / "documented.json").read_text())

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("kind", "answer", "source", "expected"), [
    ("deepl", "deepl_translate", "", ("Hallo, Welt!", "en")),
    ("google", "google_translate", "", ("Hallo Welt", "en")),
    ("google", "google_translate_with_source", "en", ("Hallo Welt", "")),
    ("libretranslate", "libretranslate_translate", "en", ("¡Hola!", "")),
    ("libretranslate", "libretranslate_auto", "", ("¡Hola!", "en")),
])
def test_documented_answers_are_read(fake, kind, answer, source, expected):
    fake.answers.append((200, DOCS[answer], {}))
    result = provider_for(kind, fake.url, "test-key").translate(Call(["Hello, world!"], source, "de"))
    assert (result.texts[0], result.detected_source) == expected


def test_documented_glossary_answer_is_read(fake):
    fake.answers.append((201, DOCS["deepl_glossary"], {}))
    glossary_id = provider_for("deepl", fake.url, "test-key").create_glossary("g", "en", "de", {"Hello": "Hallo"})
    assert glossary_id == "def3a26b-3e84-45b3-84ae-0c0aaf3525f7"


@pytest.mark.parametrize(("kind", "status", "answer", "error"), [
    ("deepl", 403, "deepl_forbidden", ProviderAuthFailed),
    ("deepl", 456, "deepl_quota", ProviderQuotaExhausted),
    ("google", 400, "google_key_invalid", ProviderAuthFailed),
    ("google", 403, "google_daily_limit", ProviderQuotaExhausted),
    ("google", 429, "google_rate_limit", ProviderRateLimited),
    ("libretranslate", 403, "libretranslate_invalid_key", ProviderAuthFailed),
    ("libretranslate", 429, "libretranslate_slowdown", ProviderRateLimited),
])
def test_documented_errors_are_mapped(fake, kind, status, answer, error):
    fake.answers.append((status, DOCS[answer], {}))
    with pytest.raises(error):
        provider_for(kind, fake.url, "test-key").translate(Call(["Hello"], "en", "de"))
