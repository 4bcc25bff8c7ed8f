"""Each provider against the local fake serving its documented shapes: the request it sends, the answer it
reads, and every error mapped (auth failure, 429 with Retry-After, quota exhausted, 5xx, a wrong shape)."""

from __future__ import annotations

import pytest

from threadline.translation.base import (
    Call,
    ProviderAuthFailed,
    ProviderFailed,
    ProviderQuotaExhausted,
    ProviderRateLimited,
)
from threadline.translation.deepl import FREE_URL, PRO_URL, default_base_url
from threadline.translation.registry import provider_for

THAI = "สวัสดีครับ คำสั่งซื้อของฉันยังไม่มาถึง"
CZECH = "Dobrý den, moje objednávka ještě nedorazila."
KINDS = ["deepl", "google", "libretranslate"]

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", KINDS)
def test_translates_a_batch_with_the_source_given_or_detected(fake, kind):
    provider = provider_for(kind, fake.url, "test-key")
    result = provider.translate(Call([THAI, "ขอบคุณครับ"], "th", "cs"))
    assert result.texts == [CZECH, "Děkuji."]
    detected = provider.translate(Call([THAI], "", "cs"))
    assert detected.texts == [CZECH] and detected.detected_source == "th"


def test_deepl_request_shape(fake):
    provider_for("deepl", fake.url, "test-key").translate(Call([THAI], "th", "cs", "g0001-fake"))
    sent = fake.requests[-1]
    assert sent["path"] == "/v2/translate"
    assert sent["headers"]["authorization"] == "DeepL-Auth-Key test-key"
    assert sent["headers"]["content-type"] == "application/json"
    assert sent["body"] == {"text": [THAI], "target_lang": "CS", "source_lang": "TH", "glossary_id": "g0001-fake"}


def test_deepl_picks_free_or_pro_from_the_key():
    assert default_base_url("279a2e9d-83b3-c416-7e2d-f721593e42a0:fx") == FREE_URL
    assert default_base_url("279a2e9d-83b3-c416-7e2d-f721593e42a0") == PRO_URL


def test_google_request_shape(fake):
    provider_for("google", fake.url, "test-key").translate(Call([THAI], "th", "cs"))
    sent = fake.requests[-1]
    assert sent["path"] == "/language/translate/v2" and sent["query"] == {"key": ["test-key"]}
    assert sent["body"] == {"q": [THAI], "target": "cs", "source": "th", "format": "text"}


def test_libretranslate_request_shape(fake):
    provider_for("libretranslate", fake.url, "test-key").translate(Call([THAI], "", "cs"))
    sent = fake.requests[-1]
    assert sent["path"] == "/translate"
    assert sent["body"] == {"q": [THAI], "source": "auto", "target": "cs", "format": "text", "api_key": "test-key"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_wrong_key_is_an_auth_failure(fake, kind):
    with pytest.raises(ProviderAuthFailed) as caught:
        provider_for(kind, fake.url, "wrong").translate(Call([THAI], "th", "cs"))
    assert caught.value.status == 502 and caught.value.code == "translation_auth_failed"


@pytest.mark.parametrize("kind", KINDS)
def test_429_passes_retry_after_on(fake, kind):
    fake.answers.append((429, {"message": "Too many requests"}, {"Retry-After": "17"}))
    with pytest.raises(ProviderRateLimited) as caught:
        provider_for(kind, fake.url, "test-key").translate(Call([THAI], "th", "cs"))
    assert caught.value.retry_after == 17 and caught.value.status == 429


def test_deepl_456_is_quota_exhausted(fake):
    fake.answers.append((456, {"message": "Quota exceeded"}, {}))
    with pytest.raises(ProviderQuotaExhausted):
        provider_for("deepl", fake.url, "test-key").translate(Call([THAI], "th", "cs"))


def test_google_daily_limit_is_quota_exhausted(fake):
    fake.answers.append((403, {"error": {"code": 403, "message": "Daily Limit Exceeded", "errors": [
        {"message": "Daily Limit Exceeded", "domain": "usageLimits", "reason": "dailyLimitExceeded"}]}}, {}))
    with pytest.raises(ProviderQuotaExhausted):
        provider_for("google", fake.url, "test-key").translate(Call([THAI], "th", "cs"))


@pytest.mark.parametrize("kind", KINDS)
def test_server_errors_and_wrong_shapes_fail_cleanly(fake, kind):
    provider = provider_for(kind, fake.url, "test-key")
    fake.answers.append((500, {"error": "Cannot translate text"}, {}))
    with pytest.raises(ProviderFailed) as caught:
        provider.translate(Call([THAI], "th", "cs"))
    assert "500" in caught.value.message and "Cannot translate text" in caught.value.message
    fake.answers.append((200, {"unexpected": True}, {}))
    with pytest.raises(ProviderFailed, match="unexpected shape"):
        provider.translate(Call([THAI], "th", "cs"))


def test_an_unreachable_provider_fails_cleanly():
    with pytest.raises(ProviderFailed, match="did not answer"):
        provider_for("libretranslate", "http://127.0.0.1:9", "").translate(Call([THAI], "th", "cs"))


def test_deepl_glossaries_and_unsupported_pairs(fake):
    provider = provider_for("deepl", fake.url, "test-key")
    glossary_id = provider.create_glossary("g", "en", "cs", {"Threadline": "Threadline", "Settings": "Nastavení"})
    sent = fake.requests[-1]
    assert sent["path"] == "/v2/glossaries"
    assert sent["body"]["entries"] == "Threadline\tThreadline\nSettings\tNastavení"
    assert sent["body"]["entries_format"] == "tsv" and sent["body"]["source_lang"] == "EN"
    assert fake.glossaries[glossary_id]["pair"] == ("EN", "CS")
    assert provider.create_glossary("g", "he", "fa", {"Threadline": "Threadline"}) == ""


def test_private_addresses_are_refused_without_the_setting(fake, settings):
    settings.THREADLINE = {**settings.THREADLINE, "OUTBOUND_ALLOW_PRIVATE": False}
    with pytest.raises(ProviderFailed, match="refused"):
        provider_for("libretranslate", fake.url, "test-key").translate(Call([THAI], "th", "cs"))
    assert fake.requests == []
