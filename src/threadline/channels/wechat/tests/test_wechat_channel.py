from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import time_machine
from django.core.cache import cache
from django.db import transaction
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import check_signature

from threadline.channels.actions import do_create_channel
from threadline.channels.fake_provider import FakeProvider
from threadline.channels.models import InboundEvent
from threadline.channels.wechat import crypto
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, Message
from threadline.core.errors import ValidationFailed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TOKEN, APP_ID = "threadlinetoken", "wx5823bf96d3bd56c7"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OPENID = "oK7Yx5bH2Qd9Jt3LmN8pQr4sTuVw"


def fixture(name: str, create_time: int | None = None) -> bytes:
    text = (FIXTURES / name).read_text().replace("{create_time}", str(create_time or int(time.time())))
    return text.encode()


@pytest.fixture
def wx():
    fake = FakeProvider().start()
    fake.route("GET", "/cgi-bin/token", 200, (FIXTURES / "token.json").read_bytes())
    fake.route("GET", "/cgi-bin/user/info", 200, (FIXTURES / "user_info.json").read_bytes())
    fake.route("GET", "/cgi-bin/media/get", 200, b"\xff\xd8wx-jpeg", {"Content-Type": "image/jpeg"})
    fake.route("POST", "/cgi-bin/message/custom/send", 200, (FIXTURES / "custom_send_ok.json").read_bytes())
    fake.route("POST", "/cgi-bin/message/template/send", 200, (FIXTURES / "template_send_ok.json").read_bytes())
    fake.route("POST", "/cgi-bin/media/upload", 200, (FIXTURES / "upload_ok.json").read_bytes())
    yield fake
    fake.stop()


def make_channel(admin, url="https://api.weixin.qq.com", mode="plain"):
    with transaction.atomic():
        channel = do_create_channel(admin, "wechat", "WeChat OA", {
            "app_id": APP_ID, "app_secret": "wechat-app-secret", "token": TOKEN, "encoding_aes_key": AES_KEY,
            "mode": mode, "api_base_url": url})
    cache.delete(f"threadline:wechat-token:{channel.pk}")  # ids repeat across test databases; the cache does not
    return channel


def signed_query(timestamp: int | None = None, nonce: str = "1320562132", token: str = TOKEN, **extra) -> dict:
    timestamp = timestamp or int(time.time())
    query = {"signature": crypto.sha1_signature(token, str(timestamp), nonce), "timestamp": str(timestamp),
             "nonce": nonce, "openid": OPENID, **extra}
    assert check_signature(token, query["signature"], query["timestamp"], nonce) is None  # wechatpy agrees
    return query


def post(client, channel, body: bytes, query: dict):
    return client.post(f"/hooks/wechat/{channel.pk}/?{urlencode(query)}", body, content_type="text/xml")


def post_encrypted(client, channel, xml: bytes, *, app_id: str = APP_ID):
    """Encrypt as WeChat's safe mode does, with wechatpy's implementation."""
    timestamp, nonce = str(int(time.time())), "987654321"
    envelope = WeChatCrypto(TOKEN, AES_KEY, app_id).encrypt_message(xml.decode(), nonce, timestamp)
    encrypted = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    body = f"<xml><ToUserName><![CDATA[gh_3f2e1d0c9b8a]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    query = {**signed_query(int(timestamp), nonce), "encrypt_type": "aes",
             "msg_signature": crypto.sha1_signature(TOKEN, timestamp, nonce, encrypted)}
    return post(client, channel, body.encode(), query)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.xml")))
def test_fixtures_parse_with_wechatpy(name):
    message = parse_message(fixture(name).decode())
    assert message.source == OPENID


def test_server_check_echoes_only_with_a_valid_fresh_signature(client, admin):
    channel = make_channel(admin)
    ok = client.get(f"/hooks/wechat/{channel.pk}/", {**signed_query(), "echostr": "6917153578474918961"})
    assert (ok.status_code, ok.content) == (200, b"6917153578474918961")
    wrong = client.get(f"/hooks/wechat/{channel.pk}/", {**signed_query(token="othertoken"), "echostr": "1"})
    assert wrong.status_code == 403
    stale = client.get(f"/hooks/wechat/{channel.pk}/", {**signed_query(int(time.time()) - 3600), "echostr": "1"})
    assert stale.status_code == 403


def test_plain_mode_signatures_and_replay(client, admin, run_jobs, wx):
    channel = make_channel(admin, wx.url)
    body = fixture("text.xml")
    ok = post(client, channel, body, signed_query())
    assert (ok.status_code, ok.content) == (200, b"success")
    assert post(client, channel, body, signed_query()).content == b"success"  # WeChat's retry: stored once
    assert post(client, channel, body, signed_query(token="othertoken")).status_code == 401
    assert post(client, channel, body, {k: v for k, v in signed_query().items() if k != "signature"}).status_code == 401
    assert post(client, channel, body, signed_query(int(time.time()) - 3600)).status_code == 401  # stale
    assert InboundEvent.objects.count() == 1
    run_jobs()
    message = Message.objects.get()
    assert message.text == "你好，我的订单还没到"
    assert (message.identity.kind, message.identity.address, message.identity.display_name) == (
        "wechat", OPENID, "王小明")
    assert message.metadata["sender_picture"] == "https://thirdwx.qlogo.cn/mmopen/abc/132"


def test_safe_mode_decrypts_what_wechatpy_encrypts_and_refuses_plain_or_foreign(client, admin, run_jobs, wx):
    channel = make_channel(admin, wx.url, mode="safe")
    assert post_encrypted(client, channel, fixture("text.xml")).content == b"success"
    assert post(client, channel, fixture("image.xml"), signed_query()).status_code == 401  # plain in safe mode
    assert post_encrypted(client, channel, fixture("voice.xml"), app_id="wx0000000000000000").status_code == 401
    run_jobs()
    assert Message.objects.get().text == "你好，我的订单还没到"
    xml = b"<xml><Content>round trip</Content></xml>"
    assert crypto.decrypt(AES_KEY, APP_ID, crypto.encrypt(AES_KEY, APP_ID, xml)) == xml


def test_tampered_encrypted_body_is_refused(client, admin, wx):
    channel = make_channel(admin, wx.url, mode="safe")
    timestamp, nonce = str(int(time.time())), "555"
    envelope = WeChatCrypto(TOKEN, AES_KEY, APP_ID).encrypt_message(fixture("text.xml").decode(), nonce, timestamp)
    encrypted = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    forged = encrypted[:-8] + ("A" * 8 if not encrypted.endswith("A" * 8) else "B" * 8)
    body = f"<xml><Encrypt><![CDATA[{forged}]]></Encrypt></xml>".encode()
    query = {**signed_query(int(timestamp), nonce), "encrypt_type": "aes",
             "msg_signature": crypto.sha1_signature(TOKEN, timestamp, nonce, encrypted)}
    assert post(client, channel, body, query).status_code == 401
    assert InboundEvent.objects.count() == 0


@pytest.mark.parametrize(("name", "text", "has_file"), [
    ("image.xml", "", True), ("voice.xml", "请尽快回电", True),
    ("location.xml", "Location: 上海市黄浦区人民大道 (31.230416, 121.473701)", False),
    ("link.xml", "退货政策 — https://shop.example.com/returns", False),
    ("subscribe.xml", "(followed the account)", False), ("click.xml", "Menu: ORDER_STATUS", False),
])
def test_message_kinds(client, admin, run_jobs, wx, name, text, has_file):
    channel = make_channel(admin, wx.url)
    post(client, channel, fixture(name), signed_query())
    run_jobs()
    message = Message.objects.get()
    assert message.text == text
    assert message.attachments.exists() == has_file
    if has_file:
        assert wx.calls("GET", "/cgi-bin/media/get")[0].query["access_token"] == ["ACCESS_TOKEN_1"]


def test_unknown_event_recorded_and_template_result_updates_status(client, admin, run_jobs, wx):
    channel = make_channel(admin, wx.url)
    post(client, channel, fixture("text.xml"), signed_query())
    post(client, channel, fixture("unknown.xml"), signed_query())
    run_jobs()
    with transaction.atomic():
        message = do_send_reply(admin, Conversation.objects.get(), "", template={
            "name": "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY", "variables": ["1001", "已发货"]})
    run_jobs()
    sent = wx.calls("POST", "/cgi-bin/message/template/send")[0].json()
    assert sent["data"] == {"keyword1": {"value": "1001"}, "keyword2": {"value": "已发货"}}
    message.refresh_from_db()
    assert message.provider_message_id == "template:200163836"
    post(client, channel, fixture("template_finish.xml"), signed_query())
    run_jobs()
    message.refresh_from_db()
    assert (message.status, message.status_reason) == ("failed", "failed:user block")
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {"processed"}


def test_reply_in_window_refresh_token_and_the_48_hour_rule(client, admin, run_jobs, wx):
    channel = make_channel(admin, wx.url)
    post(client, channel, fixture("text.xml"), signed_query())
    run_jobs()
    conversation = Conversation.objects.get()
    wx.route("POST", "/cgi-bin/message/custom/send", 200, (FIXTURES / "error_40001.json").read_bytes())
    wx.route("POST", "/cgi-bin/message/custom/send", 200, (FIXTURES / "custom_send_ok.json").read_bytes(), then=True)
    with transaction.atomic():
        reply = do_send_reply(admin, conversation, "您好，已为您查询", attachments=[("map.jpg", "image/jpeg", b"\xff\xd8")])
    run_jobs()
    reply.refresh_from_db()
    assert reply.status == "sent"
    sends = [c.json() for c in wx.calls("POST", "/cgi-bin/message/custom/send")]
    assert sends[-2] == {"touser": OPENID, "msgtype": "text", "text": {"content": "您好，已为您查询"}}
    assert sends[-1] == {"touser": OPENID, "msgtype": "image", "image": {"media_id": "UPLOADED_MEDIA_ID_1"}}
    assert len(wx.calls("GET", "/cgi-bin/token")) == 2  # the rejected token was refreshed once
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=49), tick=False):
        with pytest.raises(ValidationFailed) as refused, transaction.atomic():
            do_send_reply(admin, conversation, "still there?")
    assert refused.value.code == "outside_reply_window"
    wx.route("POST", "/cgi-bin/message/custom/send", 200, (FIXTURES / "error_45015.json").read_bytes())
    with transaction.atomic():
        late = do_send_reply(admin, conversation, "one more")
    run_jobs()
    late.refresh_from_db()
    assert late.status == "failed" and "45015" in late.status_reason


def test_buttons_become_a_menu_message(client, admin, run_jobs, wx):
    channel = make_channel(admin, wx.url)
    post(client, channel, fixture("text.xml"), signed_query())
    run_jobs()
    with transaction.atomic():
        do_send_reply(admin, Conversation.objects.get(), "问题解决了吗？", template={
            "name": "interactive", "buttons": [{"id": "101", "title": "已解决"}, {"id": "102", "title": "未解决"}]})
    run_jobs()
    sent = wx.calls("POST", "/cgi-bin/message/custom/send")[-1].json()
    assert sent == {"touser": OPENID, "msgtype": "msgmenu", "msgmenu": {
        "head_content": "问题解决了吗？", "tail_content": "",
        "list": [{"id": "101", "content": "已解决"}, {"id": "102", "content": "未解决"}]}}
