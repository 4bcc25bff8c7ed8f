"""Acceptance: SMS, then a call, then WhatsApp from the same number — one contact, one conversation; the
agent's reply goes out on WhatsApp inside the 24-hour window; after it the API refuses free text with a
clear error, and an approved template goes out."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.db import transaction

from threadline.channels.fake_provider import FakeProvider
from threadline.channels.sms.tests.helpers import PUBLIC_URL, make_twilio_channel, twilio_post
from threadline.channels.sms.tests.helpers import fixture as sms_fixture
from threadline.channels.voice.tests.helpers import Caller, make_voice_channel
from threadline.channels.voice.tests.helpers import fixture as voice_fixture
from threadline.channels.whatsapp.tests.helpers import (
    PHONE_NUMBER_ID,
    WABA_ID,
    make_whatsapp_channel,
    meta_post,
)
from threadline.channels.whatsapp.tests.helpers import fixture as wa_fixture
from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation, ConversationEvent, Message
from threadline.tenancy.actions import do_create_team

NUMBER = "+14155552671"
OUT_ID = "wamid.HBgLMTQxNTU1NTI2NzEVAgARGBJBQkNERUYwMTIzNDU2Nzg5AA=="


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_URL = PUBLIC_URL


@pytest.fixture
def graph():
    fake = FakeProvider().start()
    sent = iter(range(1, 100))
    fake.handle("POST", f"/{PHONE_NUMBER_ID}/messages", lambda call: (
        200, wa_fixture("send_response.json", out_id=f"{OUT_ID[:-4]}{next(sent):02d}AA=="),
        {"Content-Type": "application/json"}))
    fake.route("GET", f"/{WABA_ID}/message_templates", 200, wa_fixture("templates.json"))
    yield fake
    fake.stop()


def test_sms_call_whatsapp_one_conversation_and_the_window(api, client, admin, run_jobs, graph):
    with transaction.atomic():
        team = do_create_team(admin.workspace, "Orders")
    sms = make_twilio_channel(admin)
    voice = make_voice_channel(admin, team.pk)
    whatsapp = make_whatsapp_channel(admin, graph.url)

    # 1. an SMS
    assert twilio_post(client, sms, sms_fixture("inbound_text.form")).status_code == 202
    run_jobs()
    # 2. a call from the same number that ends in the IVR (a missed call)
    caller = Caller(client, voice)
    caller.start()
    caller.post(f"{PUBLIC_URL}/hooks/voice/{voice.pk}/?step=status",
                voice_fixture("call_status.form", status="no-answer", duration="0"))
    run_jobs()
    # 3. WhatsApp from the same number
    body = wa_fixture("text.json").replace(b"16505551234", NUMBER[1:].encode())
    assert meta_post(client, whatsapp, body).status_code == 202
    run_jobs()

    assert Contact.objects.count() == 1
    contact = Contact.objects.get()
    assert sorted(contact.identities.values_list("kind", "address")) == [("phone", NUMBER), ("whatsapp", NUMBER)]
    conversation = Conversation.objects.get()
    assert list(conversation.messages.order_by("id").values_list("channel__kind", flat=True)) == ["sms", "whatsapp"]
    kinds = list(ConversationEvent.objects.filter(conversation=conversation).values_list("kind", flat=True))
    assert {"call_started", "call_missed", "callback_task"} <= set(kinds)

    # the composer's view: WhatsApp (last used) first and open; SMS reachable with segments; voice cannot write
    reach = api.get(f"/api/v1/conversations/{conversation.pk}/reachability", {"text": "Blue and green"}).json()
    by_kind = {r["kind"]: r for r in reach}
    assert reach[0]["kind"] == "whatsapp" and reach[0]["reachable"] and reach[0]["details"]["window_open"]
    assert by_kind["sms"]["reachable"] and by_kind["sms"]["details"]["segmentation"]["segments"] == 1
    assert (by_kind["voice"]["reachable"], by_kind["voice"]["code"]) == (False, "channel_cannot_send")

    # an agent's reply inside the window goes out on WhatsApp
    sent = api.post(f"/api/v1/conversations/{conversation.pk}/messages",
                    json.dumps({"text": "Yes, it comes in blue and green."}), content_type="application/json")
    assert sent.status_code == 201, sent.content
    run_jobs()
    wa_calls = graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages")
    assert len(wa_calls) == 1 and wa_calls[0].json()["to"] == NUMBER
    assert wa_calls[0].json()["text"]["body"] == "Yes, it comes in blue and green."
    assert Message.objects.get(pk=sent.json()["id"]).status == "sent"

    api.post(f"/api/v1/whatsapp/{whatsapp.pk}/templates/sync")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=25), tick=False):
        refused = api.post(f"/api/v1/conversations/{conversation.pk}/messages",
                           json.dumps({"text": "Any news?"}), content_type="application/json")
        assert refused.status_code == 400
        assert refused.json()["code"] == "outside_reply_window"
        assert "24 hours" in refused.json()["message"] and "template" in refused.json()["message"]
        reach = api.get(f"/api/v1/conversations/{conversation.pk}/reachability").json()
        whatsapp_now = next(r for r in reach if r["kind"] == "whatsapp")
        assert (whatsapp_now["reachable"], whatsapp_now["code"]) == (False, "outside_reply_window")
        assert [t["name"] for t in whatsapp_now["details"]["templates"]] == ["order_update"]
        unknown = api.post(f"/api/v1/conversations/{conversation.pk}/template-replies",
                           json.dumps({"template": {"name": "seasonal_promo", "variables": ["summer"]}}),
                           content_type="application/json")
        assert (unknown.status_code, unknown.json()["code"]) == (400, "template_not_approved")
        accepted = api.post(f"/api/v1/conversations/{conversation.pk}/template-replies", json.dumps({
            "template": {"name": "order_update", "language": "en_US", "variables": ["Sam", "1001"]},
            "text": "Hi Sam, your order 1001 is on its way."}), content_type="application/json")
        assert accepted.status_code == 201, accepted.content
        run_jobs()
        template_reply = Message.objects.get(pk=accepted.json()["id"])
    assert Message.objects.filter(conversation=conversation, direction="out").count() == 2
    last = graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages")[-1].json()
    assert last["type"] == "template" and last["template"]["name"] == "order_update"
    template_reply.refresh_from_db()
    assert template_reply.status == "sent"
