"""Issue 9 item 1: every adapter gets unusual-but-valid items, and nothing acknowledged ends as nothing.

Senders without a phone number, raw provider ids, numbers the phone library calls too long, messages that
are only an attachment, reactions, stickers, locations, shared contacts, unsupported types, a withheld
caller's voicemail. Each accepted payload must end either as a message on a contact, or as a failed event
with a reason that the workspace's admins see under "needs attention"; never acknowledged and then nothing
(an event left unprocessed, a dead job, an event "processed" into no message).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote_plus

import pytest
from django.core.cache import cache
from django.db import transaction

from threadline.channels.actions import do_create_channel
from threadline.channels.fake_provider import FakeProvider
from threadline.channels.line.adapter import signature as line_signature
from threadline.channels.models import Channel, InboundEvent
from threadline.channels.queries import list_inbound_events
from threadline.channels.sms.tests.helpers import ACCOUNT_SID, PUBLIC_URL, make_twilio_channel, twilio_post
from threadline.channels.voice.tests.helpers import fixture as voice_fixture
from threadline.channels.voice.tests.helpers import make_voice_channel
from threadline.channels.wechat import crypto as wechat_crypto
from threadline.channels.whatsapp.tests.helpers import make_whatsapp_channel, meta_post
from threadline.conversations.models import Message
from threadline.jobs.models import Job
from threadline.testing.factories import make_api_channel, signed_body

pytestmark = pytest.mark.django_db

CHANNELS = "src/threadline/channels"
META_PAGE, META_IG = "104213715622913", "17841405822304914"
TELEGRAM_TOKEN, TELEGRAM_SECRET = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "tl_secret_token_0123456789abcdef"
LINE_SECRET = "line-channel-secret-0123"
WECHAT_TOKEN = "threadlinetoken"


def read(kind: str, name: str) -> str:
    from pathlib import Path

    return (Path(__file__).resolve().parent.parent / CHANNELS / kind / "fixtures" / name).read_text()


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_URL = PUBLIC_URL


@pytest.fixture
def provider():
    """Every provider API on one loopback server: media, profiles, tokens; unknown routes answer 200 {}."""
    fake = FakeProvider().start()

    def telegram_file(call):
        file_id = call.query["file_id"][0]
        answer = read("telegram", "getfile.json").replace("{file_id}", file_id).replace("{file_path}", f"f/{file_id}")
        return 200, answer.encode(), {"Content-Type": "application/json"}

    fake.handle("GET", f"/bot{TELEGRAM_TOKEN}/getFile", telegram_file)
    fake.route("GET", "/cgi-bin/token", 200, read("wechat", "token.json").encode(), {"Content-Type": "application/json"})
    fake.route("GET", "/cgi-bin/user/info", 200, read("wechat", "user_info.json").encode(),
               {"Content-Type": "application/json"})
    fake.route("GET", "/cgi-bin/media/get", 200, b"\xff\xd8wx-jpeg", {"Content-Type": "image/jpeg"})
    yield fake
    fake.stop()


# ── one way in per channel kind: make a channel on the fake provider, post a body signed as the provider does
def _meta(kind: str) -> Callable[..., Channel]:
    def make(admin, url):
        with transaction.atomic():
            return do_create_channel(admin, kind, kind.title(), {
                "page_id": META_PAGE if kind == "messenger" else META_IG, "access_token": "EAAG-page-token",
                "app_secret": "meta-app-secret-0123456789", "verify_token": "verify-token-0123", "graph_base_url": url})
    return make


def _telegram(admin, url):
    with transaction.atomic():
        return do_create_channel(admin, "telegram", "Bot", {"bot_token": TELEGRAM_TOKEN, "secret_token": TELEGRAM_SECRET,
                                                            "api_base_url": url})


def _line(admin, url):
    with transaction.atomic():
        return do_create_channel(admin, "line", "LINE OA", {"channel_secret": LINE_SECRET,
                                                            "channel_access_token": "line-access-token",
                                                            "api_base_url": url, "data_api_base_url": url})


def _wechat(admin, url):
    with transaction.atomic():
        channel = do_create_channel(admin, "wechat", "WeChat OA", {
            "app_id": "wx5823bf96d3bd56c7", "app_secret": "wechat-app-secret", "token": WECHAT_TOKEN,
            "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "mode": "plain", "api_base_url": url})
    cache.delete(f"threadline:wechat-token:{channel.pk}")
    return channel


def post_json(client, channel: Channel, body: bytes):
    if channel.kind in ("whatsapp", "messenger", "instagram"):
        return meta_post(client, channel, body)
    if channel.kind == "telegram":
        return client.post(f"/hooks/telegram/{channel.pk}/", body, content_type="application/json",
                           HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=TELEGRAM_SECRET)
    if channel.kind == "line":
        return client.post(f"/hooks/line/{channel.pk}/", body, content_type="application/json",
                           HTTP_X_LINE_SIGNATURE=line_signature(LINE_SECRET, body))
    if channel.kind == "wechat":
        import time

        stamp, nonce = str(int(time.time())), "1320562132"
        query = f"signature={wechat_crypto.sha1_signature(WECHAT_TOKEN, stamp, nonce)}&timestamp={stamp}&nonce={nonce}"
        return client.post(f"/hooks/wechat/{channel.pk}/?{query}", body, content_type="text/xml")
    if channel.kind == "api":
        raw, headers = signed_body(channel, json.loads(body))
        return client.post(f"/hooks/api/{channel.pk}/", raw, content_type="application/json", **headers)
    return twilio_post(client, channel, body.decode())  # sms (Twilio form)


@dataclass(frozen=True)
class Case:
    make: Callable[..., Channel]
    body: Callable[[str], bytes]  # the fake provider's URL → the payload
    stored: bool = True  # a message on a contact; False: a failed event that needs attention
    address: str | None = None  # the identity address it must be stored under


def _text(kind: str, name: str, **swap: str) -> Callable[[str], bytes]:
    def body(url: str) -> bytes:
        text = read(kind, name).replace("{cdn}", url).replace("{create_time}", "1763953200")
        text = text.replace("%7Bmedia%7D", quote_plus(url))
        for old, new in swap.items():
            text = re.sub(old, new, text)
        return text.encode()
    return body


def _wa(name: str, **swap: str) -> Callable[[str], bytes]:
    return lambda url: _text("whatsapp", name, **swap)(url)


def _api(document: dict) -> Callable[[str], bytes]:
    return lambda url: json.dumps(document).encode()


def _sms(admin, url):
    return make_twilio_channel(admin, api_base_url=url)


def _whatsapp(admin, url):
    return make_whatsapp_channel(admin, url)


CASES: dict[str, Case] = {
    # SMS through Twilio: short codes and alphanumeric ids, a number phonenumbers calls too long, no text
    "sms-short-code": Case(_sms, _text("sms", "inbound_text.form", **{"From=%2B14155552671": "From=72345"}),
                           address="72345"),
    "sms-alphanumeric-sender": Case(_sms, _text("sms", "inbound_text.form", **{"From=%2B14155552671": "From=ACMEBANK"}),
                                    address="ACMEBANK"),
    "sms-too-long-number": Case(_sms, _text("sms", "inbound_text.form",
                                            **{"From=%2B14155552671": "From=%2B5215512345678"}),
                                address="+5215512345678"),
    "sms-only-attachments": Case(_sms, _text("sms", "inbound_mms.form", **{"Body=[^&]*": "Body="})),
    "sms-twilio-whatsapp-521": Case(_sms, _text("sms", "inbound_whatsapp.form",
                                                **{"From=whatsapp%3A%2B14155552671": "From=whatsapp%3A%2B5215512345678",
                                                   "WaId=14155552671": "WaId=5215512345678"}),
                                    address="+5215512345678"),
    "sms-no-sender": Case(_sms, _text("sms", "inbound_text.form", **{"&From=%2B14155552671": ""}), stored=False),
    # WhatsApp Cloud API
    "whatsapp-username-no-phone": Case(_whatsapp, _wa("text_username_no_phone.json"), address="MX.1502576394655843"),
    "whatsapp-mexico-521": Case(_whatsapp, _wa("text_mexico_521.json"), address="+5215512345678"),
    "whatsapp-reaction": Case(_whatsapp, _wa("reaction.json")),
    "whatsapp-sticker": Case(_whatsapp, _wa("sticker.json")),
    "whatsapp-location": Case(_whatsapp, _wa("location.json")),
    "whatsapp-contacts": Case(_whatsapp, _wa("contacts.json")),
    "whatsapp-unsupported": Case(_whatsapp, _wa("unsupported.json")),
    "whatsapp-image-without-caption": Case(_whatsapp, _wa("image.json", **{r'"caption": "[^"]*",\s*': ""})),
    "whatsapp-no-sender": Case(_whatsapp, _wa("text.json", **{r'"from": "[^"]*",\s*': "",
                                                               r'"contacts": \[[^\]]*\],\s*': ""}), stored=False),
    # Messenger and Instagram
    "messenger-sticker": Case(_meta("messenger"), _text("messenger", "sticker.json")),
    "messenger-reaction": Case(_meta("messenger"), _text("messenger", "reaction.json")),
    "messenger-only-attachments": Case(_meta("messenger"), _text("messenger", "attachments.json")),
    "instagram-story-mention": Case(_meta("instagram"), _text("messenger", "instagram_story_mention.json")),
    "instagram-deleted": Case(_meta("instagram"), _text("messenger", "instagram_deleted.json")),
    # Telegram
    "telegram-sticker": Case(_telegram, _text("telegram", "sticker.json")),
    "telegram-location": Case(_telegram, _text("telegram", "location.json")),
    "telegram-contact": Case(_telegram, _text("telegram", "contact.json")),
    "telegram-voice-only": Case(_telegram, _text("telegram", "voice.json")),
    "telegram-photo": Case(_telegram, _text("telegram", "photo.json")),
    "telegram-reaction": Case(_telegram, _text("telegram", "reaction.json")),
    "telegram-no-username": Case(_telegram, _text("telegram", "text.json", **{r'"(last_name|username)": "[^"]*",\s*': ""})),
    # LINE
    "line-sticker": Case(_line, _text("line", "sticker.json")),
    "line-location": Case(_line, _text("line", "location.json")),
    "line-image-only": Case(_line, _text("line", "image.json")),
    "line-audio-only": Case(_line, _text("line", "audio.json")),
    "line-file": Case(_line, _text("line", "file.json")),
    # WeChat
    "wechat-location": Case(_wechat, _text("wechat", "location.xml")),
    "wechat-image-only": Case(_wechat, _text("wechat", "image.xml")),
    "wechat-voice": Case(_wechat, _text("wechat", "voice.xml")),
    "wechat-link": Case(_wechat, _text("wechat", "link.xml")),
    # The API channel: raw ids and numbers as the caller's system knows them, a message that is only a file
    "api-too-long-phone": Case(make_api_channel, _api({
        "message_id": "a-1", "sender": {"kind": "phone", "address": "+5215512345678"}, "text": "hola"}),
        address="+5215512345678"),
    "api-raw-external-id": Case(make_api_channel, _api({
        "message_id": "a-2", "sender": {"kind": "external", "address": "crm:customer/8812"}, "text": "hi"}),
        address="crm:customer/8812"),
    "api-whatsapp-business-scoped-id": Case(make_api_channel, _api({
        "message_id": "a-3", "sender": {"kind": "whatsapp", "address": "US.13491208655302741918"}, "text": "hey"}),
        address="US.13491208655302741918"),
    "api-only-an-attachment": Case(make_api_channel, _api({
        "message_id": "a-4", "sender": {"kind": "email", "address": "dana@example.com"}, "text": "",
        "attachments": [{"filename": "receipt.pdf", "content_type": "application/pdf",
                         "content_base64": "JVBERi0xLjQ="}]})),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_item_is_a_message_on_a_contact_or_needs_attention(name, client, admin, run_jobs, provider):
    case = CASES[name]
    channel = case.make(admin, provider.url)
    response = post_json(client, channel, case.body(provider.url))
    assert response.status_code in (200, 202), (name, response.content)  # the provider is told "got it"
    run_jobs()
    events = list(InboundEvent.objects.filter(channel=channel))
    assert events, name
    assert not Job.objects.filter(state=Job.State.DEAD).exists()
    assert [e.state for e in events if e.state == InboundEvent.State.RECEIVED] == []  # never left unprocessed
    messages = Message.objects.filter(channel=channel, direction="in").select_related("identity", "conversation")
    if case.stored:
        assert [(e.state, e.error) for e in events] == [("processed", "")] * len(events), name
        assert messages.exists(), f"{name}: acknowledged, processed, and nothing stored"
        for message in messages:
            assert message.identity is not None and message.conversation.contact_id is not None
            assert message.text or message.attachments.exists() or message.metadata, name
        if case.address is not None:
            assert {m.identity.address for m in messages} == {case.address}
    else:
        assert not messages.exists()
        failed = [e for e in events if e.state == InboundEvent.State.FAILED]
        assert failed and all(e.error for e in failed), name
        listed = set(list_inbound_events(admin, state="attention").values_list("pk", flat=True))
        assert {e.pk for e in failed} <= listed


def test_a_withheld_caller_leaves_a_voicemail_that_is_kept(client, admin, run_jobs, provider):
    from threadline.tenancy.actions import do_create_team

    with transaction.atomic():
        team = do_create_team(admin.workspace, "Orders")
    channel = make_voice_channel(admin, team.pk, api_base_url=provider.url)
    recording = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE4e0b9e2c5f3a4d1b8c7e6f5a4b3c2d1e.mp3"
    provider.route("GET", recording, 200, b"ID3-voicemail", {"Content-Type": "audio/mpeg"})
    withheld = voice_fixture("incoming_call.form").replace("%2B14155552671", "anonymous")
    assert twilio_post(client, channel, withheld).status_code == 200
    recorded = voice_fixture("recording_status.form").replace("{media}", quote_plus(provider.url))
    assert twilio_post(client, channel, recorded, path=f"/hooks/voice/{channel.pk}/?step=recording").status_code == 200
    run_jobs()
    assert set(InboundEvent.objects.filter(channel=channel).values_list("state", flat=True)) == {"processed"}
    voicemail = Message.objects.get(channel=channel, metadata__voicemail=True)
    assert voicemail.attachments.get().file.read() == b"ID3-voicemail"
    assert voicemail.conversation.contact_id is not None


def test_a_widget_message_that_is_only_an_attachment_is_stored(client, admin):
    """Web chat answers in the request itself (201 with the stored message, or an error the visitor sees):
    there is no acknowledgement to lose a message behind; an attachment without text is a message."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from threadline.channels.webchat.testkit import Widget, make_webchat_channel

    channel = make_webchat_channel(admin)
    widget = Widget(client, channel).start()
    sent = widget.say("", "c-1", files=SimpleUploadedFile("photo.jpg", b"\xff\xd8jpeg", "image/jpeg"))
    assert sent.status_code == 201, sent.content
    message = Message.objects.get(channel=channel)
    assert message.text == "" and message.attachments.count() == 1
