"""Authentic (correctly signed) payloads of shapes no provider documents never cause a 5xx or a crashed
worker: the edge answers 2xx or 400, and a stored event ends `processed` or `failed` (kept for replay)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from django.db import transaction

from threadline.channels.actions import do_create_channel
from threadline.channels.line.adapter import signature as line_signature
from threadline.channels.models import InboundEvent
from threadline.channels.sms.tests.helpers import PUBLIC_URL, make_twilio_channel, twilio_post
from threadline.channels.wechat import crypto as wechat_crypto
from threadline.channels.whatsapp.tests.helpers import make_whatsapp_channel, meta_post

ODD_JSON = [
    [], "text", {}, {"entry": "x"}, {"entry": [1, None]}, {"entry": [{"changes": "x", "messaging": "y"}]},
    {"entry": [{"changes": [{"field": "messages", "value": "v"}]}]},
    {"entry": [{"changes": [{"field": "messages", "value": {"messages": [1, {"type": 5, "from": None}],
                                                             "statuses": ["x", {"id": None}]}}]}]},
    {"entry": [{"messaging": [1, {"sender": "x"}, {"sender": {"id": "1"}, "message": "m"},
                              {"sender": {"id": "2"}, "delivery": {"mids": "abc"}}]}]},
    {"update_id": 7, "message": {"chat": 5, "from": "u", "photo": "p"}},
    {"update_id": 8, "callback_query": {"from": None}},
    {"events": [1, {"type": "message", "source": "x"}, {"type": "message", "source": {"userId": "U1"}, "message": 3}]},
]


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_URL = PUBLIC_URL


def _settle(run_jobs) -> None:
    run_jobs()
    assert set(InboundEvent.objects.values_list("state", flat=True)) <= {"processed", "failed"}


@pytest.mark.parametrize("document", ODD_JSON, ids=range(len(ODD_JSON)))
def test_json_providers_survive_odd_shapes(client, admin, run_jobs, document):
    body = json.dumps(document).encode()
    whatsapp = make_whatsapp_channel(admin)
    with transaction.atomic():
        messenger = do_create_channel(admin, "messenger", "M", {
            "page_id": "1", "access_token": "token-1234", "app_secret": "meta-app-secret-0123456789",
            "verify_token": "verify-token-0123"})
        telegram = do_create_channel(admin, "telegram", "T", {"bot_token": "1:token-token",
                                                              "secret_token": "secret_token_0123456789"})
        line = do_create_channel(admin, "line", "L", {"channel_secret": "line-secret", "channel_access_token": "tok-1234"})
    answers = [
        meta_post(client, whatsapp, body).status_code,
        meta_post(client, messenger, body).status_code,
        client.post(f"/hooks/telegram/{telegram.pk}/", body, content_type="application/json",
                    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="secret_token_0123456789").status_code,
        client.post(f"/hooks/line/{line.pk}/", body, content_type="application/json",
                    HTTP_X_LINE_SIGNATURE=line_signature("line-secret", body)).status_code,
    ]
    assert all(code in (200, 202, 400) for code in answers), answers
    _settle(run_jobs)


@pytest.mark.parametrize("body", ["", "MessageSid=SM1", "MessageSid=SM2&From=not-a-number&NumMedia=x",
                                  "MessageSid=SM3&MessageStatus=delivered", "From=%2B14155552671"])
def test_twilio_odd_forms(client, admin, run_jobs, body):
    channel = make_twilio_channel(admin)
    assert twilio_post(client, channel, body).status_code in (200, 202, 400)
    _settle(run_jobs)


@pytest.mark.parametrize("xml", [b"not xml", b"<xml/>", b"<xml><MsgType>text</MsgType></xml>",
                                 b"<!DOCTYPE x [<!ENTITY a 'b'>]><xml>&a;</xml>",
                                 b"<xml><FromUserName>o1</FromUserName><MsgType>image</MsgType><CreateTime>x</CreateTime></xml>"])
def test_wechat_odd_xml(client, admin, run_jobs, xml):
    with transaction.atomic():
        channel = do_create_channel(admin, "wechat", "W", {"app_id": "wx1234", "app_secret": "secret-1234",
                                                           "token": "tok", "api_base_url": "http://127.0.0.1:9"})
    stamp, nonce = str(int(time.time())), "1"
    query = urlencode({"signature": wechat_crypto.sha1_signature("tok", stamp, nonce), "timestamp": stamp, "nonce": nonce})
    assert client.post(f"/hooks/wechat/{channel.pk}/?{query}", xml, content_type="text/xml").status_code in (200, 400)
    _settle(run_jobs)
