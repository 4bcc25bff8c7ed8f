from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from django.db import transaction
from linebot.v3.webhook import SignatureValidator, WebhookParser

from threadline.channels.actions import do_create_channel
from threadline.channels.fake_provider import FakeProvider
from threadline.channels.line.adapter import signature
from threadline.channels.models import InboundEvent
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, Message
from threadline.core.errors import ValidationFailed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SECRET = "line-channel-secret-0123"
USER = "U4af4980629a0b3a5cd2d8b4b8d8f6e21"
EVENTS = sorted(p.name for p in FIXTURES.glob("*.json") if "events" in json.loads(p.read_text()))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def line_api():
    fake = FakeProvider().start()
    fake.route("GET", f"/v2/bot/profile/{USER}", 200, fixture("profile.json"))
    fake.route("GET", "/v2/bot/message/354718705033693859/content", 200, b"\xff\xd8line-jpeg", {"Content-Type": "image/jpeg"})
    fake.route("GET", "/v2/bot/message/325708/content", 200, b"%PDF-line", {"Content-Type": "application/pdf"})
    fake.route("GET", "/v2/bot/message/325709/content", 200, b"m4a-audio", {"Content-Type": "audio/x-m4a"})
    counter = iter(range(100, 999))
    fake.handle("POST", "/v2/bot/message/push", lambda call: (
        200, fixture("push_response.json").replace(b"{out_id}", str(next(counter)).encode()),
        {"Content-Type": "application/json"}))
    fake.route("POST", "/v2/bot/message/reply", 200, {"sentMessages": [{"id": "461230966842064001"}]})
    yield fake
    fake.stop()


def make_channel(admin, url="https://api.line.me", **extra):
    with transaction.atomic():
        return do_create_channel(admin, "line", "LINE OA", {
            "channel_secret": SECRET, "channel_access_token": "line-access-token", "api_base_url": url,
            "data_api_base_url": url, **extra})


def post(client, channel, body: bytes, secret: str | None = SECRET):
    headers = {"HTTP_X_LINE_SIGNATURE": signature(secret, body)} if secret else {}
    return client.post(f"/hooks/line/{channel.pk}/", body, content_type="application/json", **headers)


@pytest.mark.parametrize("name", EVENTS)
def test_fixtures_parse_with_the_line_sdk_and_our_signature_is_lines(name):
    body = fixture(name)
    sig = signature(SECRET, body)
    assert SignatureValidator(SECRET).validate(body.decode(), sig)
    events = WebhookParser(SECRET).parse(body.decode(), sig)
    assert len(events) == len(json.loads(body)["events"])


def test_signature_tampered_wrong_missing_replayed(client, admin, run_jobs, line_api):
    channel = make_channel(admin, line_api.url)
    body = fixture("text.json")
    tampered = body.replace("สวัสดี".encode(), "ลาก่อน".encode())
    assert client.post(f"/hooks/line/{channel.pk}/", tampered, content_type="application/json",
                       HTTP_X_LINE_SIGNATURE=signature(SECRET, body)).status_code == 401
    assert post(client, channel, body, secret="another-secret").status_code == 401
    assert post(client, channel, body, secret=None).status_code == 401
    assert InboundEvent.objects.count() == 0
    assert post(client, channel, body).status_code == 202
    assert post(client, channel, body).status_code == 200
    assert post(client, channel, fixture("verify.json")).status_code == 202  # the console's check
    run_jobs()
    message = Message.objects.get()
    assert message.text == "สวัสดีครับ สินค้ายังไม่มาถึง"
    assert (message.identity.kind, message.identity.address, message.identity.display_name) == ("line", USER, "Somchai")
    assert message.metadata["sender_picture"].startswith("https://profile.line-scdn.net/")


@pytest.mark.parametrize(("name", "text", "content"), [
    ("image.json", "", b"\xff\xd8line-jpeg"), ("file.json", "", b"%PDF-line"), ("audio.json", "", b"m4a-audio"),
    ("location.json", "Location: my location, 1-3 Kioicho, Chiyoda-ku, Tokyo, 102-8282, Japan (35.67966, 139.73669)",
     None),
    ("sticker.json", "(sticker cony, sally, Staring)", None),
    ("postback.json", "Pressed: action=track&order=1001", None),
])
def test_message_kinds(client, admin, run_jobs, line_api, name, text, content):
    channel = make_channel(admin, line_api.url)
    post(client, channel, fixture(name))
    run_jobs()
    message = Message.objects.get()
    assert message.text == text
    if content is not None:
        assert message.attachments.get().file.read() == content
        assert line_api.calls("GET")[-1].headers["authorization"] == "Bearer line-access-token"


def test_batch_unsend_and_unknown(client, admin, run_jobs, line_api):
    channel = make_channel(admin, line_api.url)
    for name in ("text.json", "batch.json", "unsend.json", "unknown.json"):
        post(client, channel, fixture(name))
    run_jobs()
    assert list(Message.objects.order_by("id").values_list("text", flat=True)) == [
        "สวัสดีครับ สินค้ายังไม่มาถึง", "one", "two", "(message unsent)"]
    assert Message.objects.last().metadata["unsent"] == "468789577898262530"
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {"processed"}


def test_reply_token_while_fresh_then_push_with_retry_key(client, admin, run_jobs, line_api):
    channel = make_channel(admin, line_api.url)
    post(client, channel, fixture("text.json"))
    run_jobs()
    conversation = Conversation.objects.get()
    with transaction.atomic():
        first = do_send_reply(admin, conversation, "ขอบคุณครับ กำลังตรวจสอบ")
    run_jobs()
    reply = line_api.calls("POST", "/v2/bot/message/reply")[0].json()
    assert reply == {"replyToken": "nHuyWiB7yP5Zw52FIkcQobQuGDXCTAA",
                     "messages": [{"type": "text", "text": "ขอบคุณครับ กำลังตรวจสอบ"}]}
    first.refresh_from_db()
    assert first.status == "sent"
    with transaction.atomic():  # the token was used: a second reply is pushed
        second = do_send_reply(admin, conversation, "พัสดุส่งแล้ว", attachments=[("label.png", "image/png", b"\x89PNG")])
    run_jobs()
    push = line_api.calls("POST", "/v2/bot/message/push")[0]
    assert push.json()["to"] == USER
    assert [m["type"] for m in push.json()["messages"]] == ["text", "image"]
    assert "/hooks/line/" in push.json()["messages"][1]["originalContentUrl"]
    assert len(push.headers["x-line-retry-key"]) == 36
    second.refresh_from_db()
    assert second.status == "sent"


@pytest.mark.parametrize("allow_push", [True, False])
def test_a_reply_token_line_refuses_as_used_is_pushed_instead(client, admin, run_jobs, line_api, allow_push):
    """A reply sent again after its worker was killed finds its token used at LINE (400 "Invalid reply token"):
    it is pushed with its retry key and shows sent, not failed; without push it fails with LINE's reason."""
    channel = make_channel(admin, line_api.url, allow_push=allow_push)
    post(client, channel, fixture("text.json"))
    run_jobs()
    line_api.route("POST", "/v2/bot/message/reply", 400, fixture("error_invalid_reply_token.json"))
    with transaction.atomic():
        message = do_send_reply(admin, Conversation.objects.get(), "ขอบคุณครับ")
    run_jobs()
    assert len(line_api.calls("POST", "/v2/bot/message/reply")) == 1
    message.refresh_from_db()
    pushes = line_api.calls("POST", "/v2/bot/message/push")
    if allow_push:
        assert [p.json() for p in pushes] == [{"to": USER, "messages": [{"type": "text", "text": "ขอบคุณครับ"}]}]
        assert len(pushes[0].headers["x-line-retry-key"]) == 36
        assert message.status == "sent"
    else:
        assert pushes == []
        assert message.status == "failed" and "push messages are off" in message.status_reason


def test_expired_token_without_push_is_refused_and_monthly_limit_fails(client, admin, run_jobs, line_api):
    channel = make_channel(admin, line_api.url, allow_push=False)
    post(client, channel, fixture("text.json"))
    run_jobs()
    conversation = Conversation.objects.get()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5), tick=False):
        with pytest.raises(ValidationFailed) as refused, transaction.atomic():
            do_send_reply(admin, conversation, "late")
    assert refused.value.code == "reply_token_expired"
    push_channel = make_channel(admin, line_api.url)
    line_api.route("POST", "/v2/bot/message/push", 429, fixture("error_monthly_limit.json"))
    with transaction.atomic():
        message = do_send_reply(admin, conversation, "pushed", channel=push_channel)
    run_jobs()
    message.refresh_from_db()
    assert message.status == "failed" and "monthly limit" in message.status_reason


def test_buttons_become_quick_reply_postbacks(client, admin, run_jobs, line_api):
    channel = make_channel(admin, line_api.url)
    post(client, channel, fixture("text.json"))
    run_jobs()
    with transaction.atomic():
        do_send_reply(admin, Conversation.objects.get(), "ติดตามพัสดุ?", template={
            "name": "interactive", "buttons": [{"id": "action=track", "title": "ติดตาม"}]})
    run_jobs()
    sent = line_api.calls("POST", "/v2/bot/message/reply")[0].json()["messages"][0]
    assert sent["quickReply"]["items"][0]["action"] == {"type": "postback", "label": "ติดตาม", "data": "action=track",
                                                         "displayText": "ติดตาม"}


def test_group_and_room_messages_are_their_own_conversations_answered_there(client, admin, run_jobs, line_api):
    """A LINE group (groupId) or room (roomId) is a conversation apart from the sender's one-to-one chat;
    replies go into it with its own reply token, or pushed to the group/room id, never to the user."""
    channel = make_channel(admin, line_api.url, reply_token_seconds=600)
    post(client, channel, fixture("text.json"))
    run_jobs()
    post(client, channel, fixture("group_text.json"))
    run_jobs()
    one_to_one, group, room = (Message.objects.get(provider_message_id=mid).conversation for mid in (
        "468789577898262530", "468789577898262599", "468789577898262600"))
    assert len({one_to_one.pk, group.pk, room.pk}) == 3
    assert {m.identity.address for m in Message.objects.all()} == {USER}
    with transaction.atomic():
        do_send_reply(admin, group, "10:00")
    run_jobs()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=15), tick=False):
        with transaction.atomic():
            do_send_reply(admin, room, "ใช่ครับ")
        run_jobs()
    assert [c.json()["replyToken"] for c in line_api.calls("POST", "/v2/bot/message/reply")] == [
        "groupReplyToken0000000000000000"]
    assert [c.json()["to"] for c in line_api.calls("POST", "/v2/bot/message/push")] == [
        "Ra8dbf4673c4c812cd491258042226c99"]
    with transaction.atomic():  # the user's own chat still answers with the user's own token
        do_send_reply(admin, one_to_one, "สวัสดีครับ")
    run_jobs()
    assert line_api.calls("POST", "/v2/bot/message/reply")[-1].json()["replyToken"] == "nHuyWiB7yP5Zw52FIkcQobQuGDXCTAA"
