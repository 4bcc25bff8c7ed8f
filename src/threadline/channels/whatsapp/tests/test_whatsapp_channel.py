from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.db import transaction
from pywa.utils import webhook_updates_validator

from threadline.channels.fake_provider import FakeProvider
from threadline.channels.models import InboundEvent
from threadline.channels.whatsapp.models import MessageTemplate
from threadline.channels.whatsapp.templates import do_sync_templates
from threadline.channels.whatsapp.tests.helpers import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    WABA_ID,
    fixture,
    make_whatsapp_channel,
    meta_post,
    meta_signature,
)
from threadline.contacts.models import ContactIdentity
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, Message
from threadline.core.errors import ValidationFailed
from threadline.jobs.models import Job

WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0{}AA=="
OUT_ID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI4NzY1NDMyMUFCQ0RFRgA="


@pytest.fixture
def graph():
    fake = FakeProvider().start()
    fake.route("POST", f"/{PHONE_NUMBER_ID}/messages", 200, fixture("send_response.json", out_id=OUT_ID))
    fake.route("POST", f"/{PHONE_NUMBER_ID}/media", 200, fixture("upload_response.json"))
    fake.route("GET", f"/{WABA_ID}/message_templates", 200, fixture("templates.json"))
    for media_id, ctype, data in [("1003383421387256", "image/jpeg", b"\xff\xd8jpeg"),
                                  ("1216208923234958", "application/pdf", b"%PDF-invoice"),
                                  ("1003383421387257", "audio/ogg", b"OggSvoice"),
                                  ("1003383421387258", "image/webp", b"RIFFwebp"),
                                  ("1003383421387259", "video/mp4", b"\x00\x00mp4")]:
        info = json.loads(fixture("media_info.json", url=f"{fake.url}/lookaside/{media_id}"))
        fake.route("GET", f"/{media_id}", 200, {**info, "mime_type": ctype, "id": media_id})
        fake.route("GET", f"/lookaside/{media_id}", 200, data, {"Content-Type": ctype})
    yield fake
    fake.stop()


def receive(client, run_jobs, channel, name, **values):
    response = meta_post(client, channel, fixture(name, **values))
    assert response.status_code == 202, response.content
    run_jobs()
    return response


def test_handshake_echoes_challenge_only_for_the_right_token(client, admin):
    channel = make_whatsapp_channel(admin)
    url = f"/hooks/whatsapp/{channel.pk}/"
    ok = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.content) == (200, b"1158201444")
    bad = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1158201444"})
    assert bad.status_code == 403


def test_signature_valid_tampered_wrong_missing_replayed(client, admin, run_jobs, graph):
    channel = make_whatsapp_channel(admin, graph.url)
    body = fixture("text.json")
    assert webhook_updates_validator(APP_SECRET, body, meta_signature(body))  # pywa agrees with our signing
    tampered = body.replace(b"another color", b"another colour")
    assert not webhook_updates_validator(APP_SECRET, tampered, meta_signature(body))
    assert meta_post(client, channel, tampered, signature=meta_signature(body)).status_code == 401
    assert meta_post(client, channel, body, secret="another-app-secret").status_code == 401
    assert meta_post(client, channel, body, signature="").status_code == 401
    assert InboundEvent.objects.count() == 0
    assert meta_post(client, channel, body).status_code == 202
    assert meta_post(client, channel, body).status_code == 200  # Meta's retry of the same delivery
    run_jobs()
    assert Message.objects.count() == 1


def test_text_message_with_profile_name(client, admin, run_jobs, graph):
    channel = make_whatsapp_channel(admin, graph.url)
    receive(client, run_jobs, channel, "text.json")
    message = Message.objects.get()
    assert message.text == "Does it come in another color?"
    assert message.provider_message_id == WAMID.format(1)
    identity = message.identity
    assert (identity.kind, identity.address, identity.display_name) == ("whatsapp", "+16505551234", "Sheena Nelson")
    assert message.conversation.contact.name == "Sheena Nelson"


@pytest.mark.parametrize(("name", "text", "filename", "content"), [
    ("image.json", "The box arrived like this", "image-1003383421387256.jpg", b"\xff\xd8jpeg"),
    ("document.json", "", "invoice-1001.pdf", b"%PDF-invoice"),
    ("audio.json", "", "audio-1003383421387257", b"OggSvoice"),
    ("video.json", "unboxing", "video-1003383421387259.mp4", b"\x00\x00mp4"),
    ("sticker.json", "(sticker)", "sticker-1003383421387258.webp", b"RIFFwebp"),
])
def test_media_is_downloaded_through_the_graph_api(client, admin, run_jobs, graph, name, text, filename, content):
    channel = make_whatsapp_channel(admin, graph.url)
    receive(client, run_jobs, channel, name)
    message = Message.objects.get()
    attachment = message.attachments.get()
    assert message.text == text
    assert attachment.filename.startswith(filename) and attachment.file.read() == content
    media_id = filename.split("-", 1)[1].split(".")[0] if "invoice" not in filename else "1216208923234958"
    lookup = graph.calls("GET", f"/{media_id}")[0]
    assert lookup.headers["authorization"] == "Bearer EAAG-test-token"
    assert graph.calls("GET", f"/lookaside/{media_id}")[0].headers["authorization"] == "Bearer EAAG-test-token"


@pytest.mark.parametrize(("name", "text", "meta_key"), [
    ("location.json", "Location: Main office, 1 Hacker Way, Menlo Park, CA 94025 (37.483307, -122.148981)",
     "location"),
    ("contacts.json", "Contact: Barbara J. Johnson +1 (650) 555-1234", "contacts"),
    ("interactive_button_reply.json", "Cancel order", "reply_id"),
    ("interactive_list_reply.json", "Express Shipping", "reply_id"),
    ("button.json", "Stop promotions", "payload"),
    ("reaction.json", "Reacted 👍", "reaction"),
    ("referral.json", "Is this still on sale?", "referral"),
    ("unsupported.json", "(unsupported WhatsApp message: unsupported)", "errors"),
])
def test_every_message_type_becomes_readable_text(client, admin, run_jobs, graph, name, text, meta_key):
    channel = make_whatsapp_channel(admin, graph.url)
    receive(client, run_jobs, channel, name)
    message = Message.objects.get()
    assert message.text == text
    assert meta_key in message.metadata
    assert InboundEvent.objects.get().state == "processed"


def test_unknown_field_is_acknowledged_and_recorded(client, admin, run_jobs):
    channel = make_whatsapp_channel(admin)
    receive(client, run_jobs, channel, "unknown_field.json")
    assert InboundEvent.objects.get().state == "processed"
    assert Message.objects.count() == 0


def _conversation(client, run_jobs, channel) -> Conversation:
    receive(client, run_jobs, channel, "text.json")
    return Conversation.objects.get()


def test_reply_inside_window_then_statuses_from_a_batch(client, admin, run_jobs, graph):
    channel = make_whatsapp_channel(admin, graph.url)
    conversation = _conversation(client, run_jobs, channel)
    with transaction.atomic():
        reply = do_send_reply(admin, conversation, "Yes — blue and green.")
    run_jobs()
    sent = graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages")[0]
    assert sent.headers["authorization"] == "Bearer EAAG-test-token"
    assert sent.json() == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+16505551234",
                           "type": "text", "text": {"preview_url": False, "body": "Yes — blue and green."}}
    reply.refresh_from_db()
    assert (reply.status, reply.provider_message_id) == ("sent", OUT_ID)
    receive(client, run_jobs, channel, "batch.json", out_id=OUT_ID)
    reply.refresh_from_db()
    assert reply.status == "delivered"
    assert Message.objects.filter(direction="in").count() == 3  # both customers' messages of the batch
    assert ContactIdentity.objects.filter(kind="whatsapp").count() == 2
    receive(client, run_jobs, channel, "status_read.json", out_id=OUT_ID)
    reply.refresh_from_db()
    assert reply.status == "read"


def test_failed_status_shows_metas_reason(client, admin, run_jobs, graph):
    channel = make_whatsapp_channel(admin, graph.url)
    conversation = _conversation(client, run_jobs, channel)
    with transaction.atomic():
        reply = do_send_reply(admin, conversation, "hello")
    run_jobs()
    receive(client, run_jobs, channel, "status_failed.json", out_id=OUT_ID)
    reply.refresh_from_db()
    assert reply.status == "failed"
    assert reply.status_reason.startswith("131047 Re-engagement message: Message failed to send because more than 24")


def test_media_reply_is_uploaded_then_sent_by_id(client, admin, run_jobs, graph):
    channel = make_whatsapp_channel(admin, graph.url)
    conversation = _conversation(client, run_jobs, channel)
    with transaction.atomic():
        do_send_reply(admin, conversation, "Your invoice", attachments=[("invoice.pdf", "application/pdf", b"%PDF")])
    run_jobs()
    upload = graph.calls("POST", f"/{PHONE_NUMBER_ID}/media")[0]
    assert b'name="messaging_product"' in upload.body and b"%PDF" in upload.body
    sent = graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages")[0].json()
    assert sent["type"] == "document"
    assert sent["document"] == {"id": "1037543291543636", "caption": "Your invoice", "filename": "invoice.pdf"}


def test_rate_limit_is_retried_and_permanent_errors_shown(client, admin, run_jobs, graph):
    path = f"/{PHONE_NUMBER_ID}/messages"
    graph.route("POST", path, 400, fixture("error_rate_limit.json"))
    graph.route("POST", path, 400, fixture("error_invalid_recipient.json"), then=True)
    channel = make_whatsapp_channel(admin, graph.url)
    conversation = _conversation(client, run_jobs, channel)
    with transaction.atomic():
        reply = do_send_reply(admin, conversation, "hello")
    run_jobs()
    reply.refresh_from_db()
    assert reply.status == "queued"  # 130429 is throttling: retried later
    Job.objects.filter(task__endswith="deliver_message_task").update(run_after=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    run_jobs()
    reply.refresh_from_db()
    assert reply.status == "failed" and "131026" in reply.status_reason


def test_outside_window_free_text_refused_template_checked_and_sent(client, admin, run_jobs, graph):
    channel = make_whatsapp_channel(admin, graph.url)
    conversation = _conversation(client, run_jobs, channel)
    with transaction.atomic():
        assert do_sync_templates(channel) == 2
    assert MessageTemplate.objects.get(name="order_update").variables == 2
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=25), tick=False):
        with pytest.raises(ValidationFailed) as refused, transaction.atomic():
            do_send_reply(admin, conversation, "Any news?")
        assert refused.value.code == "outside_reply_window"
        for template, code in [({"name": "seasonal_promo", "variables": ["summer"]}, "template_not_approved"),
                               ({"name": "nope"}, "unknown_template"),
                               ({"name": "order_update", "variables": ["Sheena"]}, "template_variables")]:
            with pytest.raises(ValidationFailed) as wrong, transaction.atomic():
                do_send_reply(admin, conversation, "", template=template)
            assert wrong.value.code == code
        with transaction.atomic():
            do_send_reply(admin, conversation, "", template={"name": "order_update", "language": "en_US",
                                                             "variables": ["Sheena", "1001"]})
        run_jobs()
    body = graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages")[-1].json()
    assert body["type"] == "template"
    assert body["template"] == {"name": "order_update", "language": {"code": "en_US"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "Sheena"}, {"type": "text", "text": "1001"}]}]}


def test_interactive_buttons_and_lists(client, admin, run_jobs, graph):
    channel = make_whatsapp_channel(admin, graph.url)
    conversation = _conversation(client, run_jobs, channel)
    two = [{"id": "yes", "title": "Yes, solved"}, {"id": "no", "title": "No, still broken"}]
    five = [{"id": f"slot-{i}", "title": f"Tuesday {9 + i}:00"} for i in range(5)]
    with transaction.atomic():
        do_send_reply(admin, conversation, "Did this solve it?", template={"name": "interactive", "buttons": two})
        do_send_reply(admin, conversation, "Pick a time", template={"name": "interactive", "buttons": five})
    run_jobs()
    first, second = [c.json()["interactive"] for c in graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages")]
    assert first == {"type": "button", "body": {"text": "Did this solve it?"}, "action": {"buttons": [
        {"type": "reply", "reply": {"id": "yes", "title": "Yes, solved"}},
        {"type": "reply", "reply": {"id": "no", "title": "No, still broken"}}]}}
    assert second["type"] == "list" and [r["id"] for r in second["action"]["sections"][0]["rows"]] == [
        f"slot-{i}" for i in range(5)]
    with pytest.raises(ValidationFailed) as bad, transaction.atomic():
        do_send_reply(admin, conversation, "?", template={"name": "interactive", "buttons": []})
    assert bad.value.code == "invalid_template"
