"""/api/v1/translation with bearer tokens: settings (the key never read back), glossary, a message in the
agent's language, a reply previewed and sent translated, and another workspace's ids answering 404."""

from __future__ import annotations

import pytest
from django.db import transaction

from threadline.conversations.models import Message
from threadline.conversations.tests.builders import bearer, send_json
from threadline.language.actions import ensure_detected
from threadline.testing import factories
from threadline.web.tests.helpers import customer_writes

pytestmark = pytest.mark.django_db(transaction=True)

THAI = "สวัสดีครับ คำสั่งซื้อของฉันยังไม่มาถึง"
CZECH = "Dobrý den, moje objednávka ještě nedorazila."


@pytest.fixture
def thai(admin, receiver) -> Message:
    admin.user.language = "cs"
    admin.user.save(update_fields=["language"])
    channel = factories.make_api_channel(admin, webhook_url=receiver.url)
    message = customer_writes(channel, THAI, address="somchai@example.co.th")
    with transaction.atomic():
        ensure_detected(message)
    return message


def test_settings_glossary_and_usage(client, admin, fake):
    auth = bearer(factories.make_token(admin))
    empty = client.get("/api/v1/translation/settings", **auth).json()
    assert empty["provider"] == "" and empty["usage"]["remaining"] is None
    saved = send_json(client, "put", "/api/v1/translation/settings",
                      {"provider": "google", "base_url": fake.url, "api_key": "test-key", "monthly_budget": 1000},
                      **auth)
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert body["has_key"] is True and "api_key" not in body and "test-key" not in saved.content.decode()
    assert body["usage"]["remaining"] == 1000
    term = send_json(client, "post", "/api/v1/translation/glossary",
                     {"term": "Threadline", "translations": {"th": "เธรดไลน์"}}, **auth)
    assert term.json()["translations"] == {"th": "เธรดไลน์"}
    assert [t["term"] for t in client.get("/api/v1/translation/glossary", **auth).json()] == ["Threadline"]
    bad = send_json(client, "put", "/api/v1/translation/settings", {"provider": "libretranslate"}, **auth)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_url"


def test_message_preview_and_reply(client, admin, thai, configure, fake):
    configure(admin)
    auth = bearer(factories.make_token(admin))
    shown = client.post(f"/api/v1/translation/messages/{thai.pk}", **auth).json()
    assert shown == {"message_id": thai.pk, "source": "th", "target": "cs", "text": CZECH}
    path = f"/api/v1/translation/conversations/{thai.conversation_id}"
    preview = send_json(client, "post", f"{path}/preview", {"text": "Dobrý den"}, **auth).json()
    assert preview["translated"] == "สวัสดี" and preview["target"] == "th"
    sent = send_json(client, "post", f"{path}/replies", {"text": "Dobrý den"}, **auth).json()
    assert sent["text"] == "สวัสดี" and sent["original"] == "Dobrý den" and sent["language"] == "th"
    assert Message.objects.get(pk=sent["message_id"]).metadata["translation"]["original"] == "Dobrý den"


def test_provider_errors_are_json_with_their_status(client, admin, thai, configure, fake):
    configure(admin)
    auth = bearer(factories.make_token(admin))
    fake.answers.append((429, {"error": "Slowdown: 1 per 1 second"}, {"Retry-After": "9"}))
    limited = client.post(f"/api/v1/translation/messages/{thai.pk}", **auth)
    assert limited.status_code == 429 and limited["Retry-After"] == "9"
    assert limited.json()["code"] == "translation_rate_limited"
    fake.answers.append((403, {"error": "Invalid API key"}, {}))
    refused = client.post(f"/api/v1/translation/messages/{thai.pk}", **auth)
    assert refused.status_code == 502 and refused.json()["code"] == "translation_auth_failed"


def test_another_workspace_sees_nothing(client, admin, thai, configure, fake):
    configure(admin)
    other = factories.make_workspace("Elsewhere")
    configure(other)
    auth = bearer(factories.make_token(other))
    assert client.post(f"/api/v1/translation/messages/{thai.pk}", **auth).status_code == 404
    path = f"/api/v1/translation/conversations/{thai.conversation_id}"
    assert send_json(client, "post", f"{path}/replies", {"text": "Ahoj"}, **auth).status_code == 404
    assert client.get("/api/v1/translation/glossary", **auth).json() == []
    assert fake.requests == []
