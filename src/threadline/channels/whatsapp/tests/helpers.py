"""WhatsApp channels and Meta-signed webhook requests for tests."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from django.db import transaction

from threadline.channels.actions import do_create_channel
from threadline.channels.fake_provider import Call, FakeProvider
from threadline.channels.models import Channel

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
APP_SECRET = "meta-app-secret-0123456789"
VERIFY_TOKEN = "verify-token-0123456789"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"


def fixture(name: str, **values: str) -> bytes:
    text = (FIXTURES / name).read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text.encode()


def meta_signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def make_whatsapp_channel(admin, graph_base_url: str = "https://graph.facebook.com/v21.0") -> Channel:
    with transaction.atomic():
        return do_create_channel(admin, "whatsapp", "WhatsApp support", {
            "phone_number_id": PHONE_NUMBER_ID, "business_account_id": WABA_ID, "access_token": "EAAG-test-token",
            "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "graph_base_url": graph_base_url,
        })


def meta_post(client, channel: Channel, body: bytes | dict, *, secret: str = APP_SECRET, signature: str | None = None):
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    sig = meta_signature(raw, secret) if signature is None else signature
    headers = {"HTTP_X_HUB_SIGNATURE_256": sig} if sig else {}
    return client.post(f"/hooks/{channel.kind}/{channel.pk}/", raw, content_type="application/json", **headers)


MEDIA_ID = "1003383421387256"  # the image of fixtures/image.json
GOOD_TOKEN = "EAAG-the-right-token"


def strict_graph() -> FakeProvider:
    """Meta's Graph API on loopback, started: media of image.json downloads only with GOOD_TOKEN (anything
    else answers 401, as Meta does for a wrong or expired access token); sends answer a message id."""
    fake = FakeProvider().start()
    fake.route("POST", f"/{PHONE_NUMBER_ID}/messages", 200, {"messages": [{"id": "wamid.out"}]})

    def media(call: Call) -> tuple[int, bytes, dict[str, str]]:
        if call.headers.get("authorization") != f"Bearer {GOOD_TOKEN}":
            error = {"error": {"code": 190, "message": "Invalid OAuth access token."}}
            return 401, json.dumps(error).encode(), {"Content-Type": "application/json"}
        info = json.loads(fixture("media_info.json", url=f"{fake.url}/lookaside/{MEDIA_ID}"))
        return 200, json.dumps(info).encode(), {"Content-Type": "application/json"}

    fake.handle("GET", f"/{MEDIA_ID}", media)
    fake.route("GET", f"/lookaside/{MEDIA_ID}", 200, b"\xff\xd8jpeg", {"Content-Type": "image/jpeg"})
    return fake
