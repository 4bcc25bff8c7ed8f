"""Building Twilio channels and signed Twilio requests in tests (the signature by Twilio's own SDK)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import transaction
from twilio.request_validator import RequestValidator

from threadline.channels.actions import do_create_channel
from threadline.channels.models import Channel

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ACCOUNT_SID = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
AUTH_TOKEN = "12345678901234567890123456789012"
PUBLIC_URL = "https://support.example.com"


def fixture(name: str, **values: str) -> str:
    text = (FIXTURES / name).read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", value).replace("%7B" + key + "%7D", value.replace("/", "%2F")
                                                            .replace(":", "%3A"))
    return text


def make_twilio_channel(admin, kind: str = "sms", api_base_url: str = "https://api.twilio.com", **config) -> Channel:
    with transaction.atomic():
        return do_create_channel(admin, kind, f"Twilio {kind}", {
            "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": "+15017122661",
            "api_base_url": api_base_url, **config,
        })


def sign(url: str, body: str, token: str = AUTH_TOKEN) -> str:
    """Twilio's signature of a form body POSTed to `url`, computed by Twilio's SDK."""
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return RequestValidator(token).compute_signature(url, {k: v if len(v) > 1 else v[0] for k, v in params.items()})


def twilio_post(client, channel: Channel, body: str, *, token: str = AUTH_TOKEN, signature: str | None = None,
                path: str | None = None):
    """POST a form body to the channel's webhook, signed as Twilio signs it (unless `signature` is given)."""
    path = path or f"/hooks/{channel.kind}/{channel.pk}/"
    if signature is None:
        signature = sign(settings.PUBLIC_URL + path, body, token)
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    return client.post(path, body, content_type="application/x-www-form-urlencoded", **headers)
