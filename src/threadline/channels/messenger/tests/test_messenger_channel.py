from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from django.db import transaction
from pywa.utils import webhook_updates_validator

from threadline.channels.actions import do_create_channel
from threadline.channels.fake_provider import FakeProvider
from threadline.channels.models import InboundEvent
from threadline.channels.whatsapp.tests.helpers import meta_post, meta_signature
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, Message
from threadline.core.errors import ValidationFailed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
APP_SECRET = "meta-app-secret-0123456789"
PAGE, PSID = "104213715622913", "6512345678901234"
IG, IGSID = "17841405822304914", "5432109876543210"
OUT = "m_OUTGOING0000000000000000000000000000000000000000000000000000000000000000001"


def fixture(name: str, **values: str) -> bytes:
    text = (FIXTURES / name).read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text.encode()


@pytest.fixture
def meta():
    fake = FakeProvider().start()
    fake.route("GET", f"/{PSID}", 200, fixture("profile_messenger.json"))
    fake.route("GET", f"/{IGSID}", 200, fixture("profile_instagram.json"))
    fake.route("GET", "/v/t1.15752-9/photo.jpg", 200, b"\xff\xd8photo", {"Content-Type": "image/jpeg"})
    fake.route("GET", "/v/t59.2708-21/receipt.pdf", 200, b"%PDF-receipt", {"Content-Type": "application/pdf"})
    counter = iter(range(1, 1000))
    for owner in (PAGE, IG):
        fake.handle("POST", f"/{owner}/messages", lambda call: (
            200, fixture("send_response.json", out_mid=f"{OUT[:-3]}{next(counter):03d}"),
            {"Content-Type": "application/json"}))
    yield fake
    fake.stop()


def make_channel(admin, kind: str, graph_url: str, **extra):
    with transaction.atomic():
        return do_create_channel(admin, kind, kind.title(), {
            "page_id": PAGE if kind == "messenger" else IG, "access_token": "EAAG-page-token",
            "app_secret": APP_SECRET, "verify_token": "verify-token-0123", "graph_base_url": graph_url, **extra})


def receive(client, run_jobs, channel, name, **values):
    response = meta_post(client, channel, fixture(name, **values))
    assert response.status_code == 202, response.content
    run_jobs()


def test_signatures_handshake_and_replay(client, admin, run_jobs, meta):
    channel = make_channel(admin, "messenger", meta.url)
    body = fixture("text.json")
    assert webhook_updates_validator(APP_SECRET, body, meta_signature(body))
    assert meta_post(client, channel, body.replace(b"Saturday", b"Sunday"), signature=meta_signature(body)).status_code == 401
    assert meta_post(client, channel, body, secret="not-the-app-secret").status_code == 401
    assert meta_post(client, channel, body, signature="").status_code == 401
    assert InboundEvent.objects.count() == 0
    assert meta_post(client, channel, body).status_code == 202
    assert meta_post(client, channel, body).status_code == 200
    hub = client.get(f"/hooks/messenger/{channel.pk}/", {"hub.mode": "subscribe", "hub.verify_token": "verify-token-0123",
                                                         "hub.challenge": "CHALLENGE_ACCEPTED"})
    assert hub.content == b"CHALLENGE_ACCEPTED"
    run_jobs()
    message = Message.objects.get()
    assert message.text == "Hi! Is the store open on Saturday?"
    identity = message.identity
    assert (identity.kind, identity.address, identity.display_name) == ("messenger", PSID, "Peter Chang")
    assert message.metadata["sender_picture"].startswith("https://platform-lookaside.fbsbx.com/")
    assert meta.calls("GET", f"/{PSID}")[0].query["fields"] == ["first_name,last_name,profile_pic"]


@pytest.mark.parametrize(("name", "text", "key"), [
    ("quick_reply.json", "Green", "payload"),
    ("sticker.json", "(sticker)", "sticker_id"),
    ("postback.json", "Track my order", "payload"),
    ("reaction.json", "Reacted ❤️", "reaction"),
    ("message_edit.json", "(edited) Hi! Is the store open on Sunday?", "edit_of"),
    ("referral.json", "Arrived from ADS", "referral"),
])
def test_event_kinds(client, admin, run_jobs, meta, name, text, key):
    channel = make_channel(admin, "messenger", meta.url)
    receive(client, run_jobs, channel, name, cdn=meta.url)
    message = Message.objects.get()
    assert message.text == text and key in message.metadata


def test_attachments_batch_echo_and_unknown(client, admin, run_jobs, meta):
    channel = make_channel(admin, "messenger", meta.url)
    receive(client, run_jobs, channel, "attachments.json", cdn=meta.url)
    stored = sorted((a.content_type, a.file.read()) for a in Message.objects.get().attachments.all())
    assert stored == [("application/pdf", b"%PDF-receipt"), ("image/jpeg", b"\xff\xd8photo")]
    for name in ("batch.json", "echo.json", "unknown.json"):
        receive(client, run_jobs, channel, name)
    assert list(Message.objects.order_by("id").values_list("text", flat=True))[1:] == ["first", "second"]
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {"processed"}
    assert Conversation.objects.count() == 1


def test_reply_delivery_and_read_receipts(client, admin, run_jobs, meta):
    channel = make_channel(admin, "messenger", meta.url)
    receive(client, run_jobs, channel, "text.json")
    with transaction.atomic():
        reply = do_send_reply(admin, Conversation.objects.get(), "Yes, 10:00 to 14:00.")
    run_jobs()
    sent = meta.calls("POST", f"/{PAGE}/messages")[0]
    assert sent.headers["authorization"] == "Bearer EAAG-page-token"
    assert sent.json() == {"recipient": {"id": PSID}, "messaging_type": "RESPONSE",
                           "message": {"text": "Yes, 10:00 to 14:00."}}
    reply.refresh_from_db()
    receive(client, run_jobs, channel, "delivery.json", out_mid=reply.provider_message_id)
    reply.refresh_from_db()
    assert reply.status == "delivered"
    receive(client, run_jobs, channel, "read.json")
    reply.refresh_from_db()
    assert reply.status == "read"


def test_window_human_agent_tag_then_message_tags_only(client, admin, run_jobs, meta):
    channel = make_channel(admin, "messenger", meta.url)
    receive(client, run_jobs, channel, "text.json")
    conversation = Conversation.objects.get()
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start + dt.timedelta(days=2), tick=False):
        with transaction.atomic():
            do_send_reply(admin, conversation, "Sorry for the delay!")
        run_jobs()
    assert meta.calls("POST", f"/{PAGE}/messages")[-1].json()["tag"] == "HUMAN_AGENT"
    with time_machine.travel(start + dt.timedelta(days=8), tick=False):
        with pytest.raises(ValidationFailed) as refused, transaction.atomic():
            do_send_reply(admin, conversation, "Still there?")
        assert refused.value.code == "outside_reply_window"
        with pytest.raises(ValidationFailed) as wrong, transaction.atomic():
            do_send_reply(admin, conversation, "Sale!", template={"name": "PROMOTION"})
        assert wrong.value.code == "unknown_template"
        with transaction.atomic():
            do_send_reply(admin, conversation, "Your order shipped.", template={"name": "POST_PURCHASE_UPDATE"})
        run_jobs()
    last = meta.calls("POST", f"/{PAGE}/messages")[-1].json()
    assert (last["messaging_type"], last["tag"]) == ("MESSAGE_TAG", "POST_PURCHASE_UPDATE")


def test_outside_window_error_from_meta_is_shown(client, admin, run_jobs, meta):
    channel = make_channel(admin, "messenger", meta.url)
    receive(client, run_jobs, channel, "text.json")
    meta.route("POST", f"/{PAGE}/messages", 400, fixture("error_outside_window.json"))
    with transaction.atomic():
        reply = do_send_reply(admin, Conversation.objects.get(), "hello")
    run_jobs()
    reply.refresh_from_db()
    assert reply.status == "failed" and "outside of allowed window" in reply.status_reason


def test_files_are_uploaded_with_the_message(client, admin, run_jobs, meta):
    channel = make_channel(admin, "messenger", meta.url)
    receive(client, run_jobs, channel, "text.json")
    with transaction.atomic():
        do_send_reply(admin, Conversation.objects.get(), "the map",
                      attachments=[("map.png", "image/png", b"\x89PNGmap")])
    run_jobs()
    upload = meta.calls("POST", f"/{PAGE}/messages")[-1]
    assert b'name="filedata"; filename="map.png"' in upload.body and b"\x89PNGmap" in upload.body
    assert b'{"attachment": {"type": "image", "payload": {"is_reusable": false}}}' in upload.body


def test_instagram_text_story_mention_deletion_and_link_sent_media(client, admin, run_jobs, meta, settings):
    settings.PUBLIC_URL = "https://support.example.com"
    channel = make_channel(admin, "instagram", meta.url)
    receive(client, run_jobs, channel, "instagram_text.json")
    receive(client, run_jobs, channel, "instagram_story_mention.json")
    receive(client, run_jobs, channel, "instagram_deleted.json")
    texts = list(Message.objects.order_by("id").values_list("text", flat=True))
    assert texts == ["Do you ship to Haifa?", "(mentioned you in their story)", "(message deleted)"]
    identity = Message.objects.first().identity
    assert (identity.kind, identity.display_name) == ("instagram", "Yael Mizrahi")
    with transaction.atomic():
        do_send_reply(admin, Conversation.objects.get(), "Yes!", attachments=[("truck.jpg", "image/jpeg", b"\xff\xd8")])
    run_jobs()
    calls = meta.calls("POST", f"/{IG}/messages")
    assert calls[0].json()["message"] == {"text": "Yes!"}
    link = calls[1].json()["message"]["attachment"]["payload"]["url"]
    assert link.startswith(f"https://support.example.com/hooks/instagram/{channel.pk}/?media=")
    assert b"".join(client.get(link.removeprefix("https://support.example.com")).streaming_content) == b"\xff\xd8"
    assert json.loads(calls[0].body)["recipient"] == {"id": IGSID}


def test_buttons_become_quick_replies(client, admin, run_jobs, meta):
    channel = make_channel(admin, "messenger", meta.url)
    receive(client, run_jobs, channel, "text.json")
    with transaction.atomic():
        do_send_reply(admin, Conversation.objects.get(), "Which color?", template={
            "name": "interactive", "buttons": [{"id": "COLOR_BLUE", "title": "Blue"}]})
    run_jobs()
    body = meta.calls("POST", f"/{PAGE}/messages")[-1].json()
    assert body["message"] == {"text": "Which color?", "quick_replies": [
        {"content_type": "text", "title": "Blue", "payload": "COLOR_BLUE"}]}


# Instagram story replies and mentions keep their story: metadata, and a link in the agent's timeline (Meta asks
# that the story media itself is not stored: its CDN URL is kept).
STORY_URL = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17887766554433221&amp;signature=AbCdEf"


def test_story_reply_and_mention_keep_the_story(client, admin, run_jobs, meta):
    channel = make_channel(admin, "instagram", meta.url)
    receive(client, run_jobs, channel, "instagram_story_reply.json")
    receive(client, run_jobs, channel, "instagram_story_mention.json")
    reply, mention = Message.objects.order_by("id")
    assert reply.text == "Is this jacket still in stock?"
    assert reply.metadata["story"] == {
        "kind": "reply", "id": "17887766554433221",
        "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17887766554433221&signature=AbCdEf"}
    assert mention.metadata["story"] == {"kind": "mention", "id": "",
                                         "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17875"}
    assert mention.text == "(mentioned you in their story)"
    client.force_login(admin.user)
    page = client.get(f"/app/c/{reply.conversation_id}/").content.decode()
    assert f'href="{STORY_URL}"' in page
    assert 'href="https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17875"' in page
