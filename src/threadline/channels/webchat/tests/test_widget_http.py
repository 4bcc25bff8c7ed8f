"""The widget's HTTP side: loader, config, frame, visitor sessions, identity verification, messages with
attachments and who may read them, attributes and tracked events."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from threadline.channels.webchat.models import Visitor, VisitorEvent
from threadline.channels.webchat.testkit import Widget, make_webchat_channel
from threadline.channels.webchat.tokens import identity_token
from threadline.contacts.models import ContactIdentity
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, Message


@pytest.fixture
def channel(admin):
    return make_webchat_channel(admin, title="Acme help", greetings={"en": "Hi!", "he": "שלום!"}, color="#fde047")


def test_loader_and_config_are_readable_from_any_site(client, channel):
    loader = client.get("/widget.js")
    assert loader.status_code == 200
    assert loader["Content-Type"].startswith("text/javascript")
    assert loader["Access-Control-Allow-Origin"] == "*"
    assert b"Threadline(\"identify\"" in loader.content
    config = client.get(f"/widget/{channel.pk}/config?lang=he-IL")
    assert config["Access-Control-Allow-Origin"] == "*"
    body = config.json()
    assert body["language"] == "he" and body["direction"] == "rtl" and body["greeting"] == "שלום!"
    assert body["title"] == "Acme help" and body["text_color"] == "#111827"  # dark text on a light brand color
    assert body["agents_available"] is False
    assert client.get(f"/widget/{channel.pk}/config?lang=de").json()["language"] == "en"
    assert client.get("/widget/999999/config").status_code == 404


def test_the_frame_is_embeddable_only_where_allowed_and_follows_the_language(client, admin):
    channel = make_webchat_channel(admin, allowed_origins=["https://shop.example"], language="fa")
    frame = client.get(f"/widget/{channel.pk}/?lang=en")
    assert frame.status_code == 200
    assert "frame-ancestors https://shop.example" in frame["Content-Security-Policy"]
    assert "script-src 'self'" in frame["Content-Security-Policy"]
    assert "X-Frame-Options" not in frame
    html = frame.content.decode()
    assert '<html lang="fa" dir="rtl">' in html


def test_a_visitor_session_resumes_with_its_token_and_a_forged_one_starts_over(client, channel):
    first = Widget(client, channel).start()
    again = Widget(client, channel, first.token).start()
    assert again.token == first.token
    assert Visitor.objects.count() == 1
    forged = first.token[:-4] + "0000"
    fresh = Widget(client, channel, forged).start()
    assert fresh.token != first.token and Visitor.objects.count() == 2
    assert Widget(client, channel, forged).post("details", {"email": "x@example.com"}).json()["code"] == \
        "invalid_visitor_token"


def test_messages_with_attachments_and_history(client, channel, admin, run_jobs):
    widget = Widget(client, channel).start()
    image = SimpleUploadedFile("receipt.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")
    sent = widget.say("Here is my receipt", "c-1", files=image)
    assert sent.status_code == 201, sent.content
    again = widget.say("Here is my receipt", "c-1")  # a retry of the same client id is the same message
    assert again.json()["message"]["id"] == sent.json()["message"]["id"]
    message = Message.objects.get()
    assert message.identity.kind == "visitor" and message.attachments.count() == 1
    with transaction.atomic():
        do_send_reply(admin, message.conversation, "Thanks, got it.")
    run_jobs()
    history = widget.history()
    assert [(m["direction"], m["text"]) for m in history] == [("in", "Here is my receipt"), ("out", "Thanks, got it.")]
    assert history[1]["author"] == "Ada"  # agents by first name only
    attachment = history[0]["attachments"][0]
    own = client.get(f"/widget/{channel.pk}/attachments/{attachment['id']}?token={widget.token}")
    assert own.status_code == 200 and b"".join(own.streaming_content).startswith(b"\x89PNG")
    stranger = Widget(client, channel).start()
    assert client.get(f"/widget/{channel.pk}/attachments/{attachment['id']}?token={stranger.token}").status_code == 404
    assert stranger.history() == []


def test_notes_never_reach_the_widget(client, channel, admin):
    from threadline.conversations.actions import do_add_note

    widget = Widget(client, channel).start()
    widget.say("Hello", "c-1")
    with transaction.atomic():
        do_add_note(admin, Conversation.objects.get(), "VIP, be nice")
    assert [m["text"] for m in widget.history()] == ["Hello"]


def test_identify_links_to_the_users_contact_and_a_forged_token_is_refused(client, channel):
    device_one = Widget(client, channel).start()
    assert device_one.identify("user-42", email="Dana@Example.com", name="Dana Levi").status_code == 200
    device_one.say("My first question", "q-1")
    contact = Message.objects.get().conversation.contact
    assert contact.name == "Dana Levi"
    kinds = dict(ContactIdentity.objects.filter(contact=contact).values_list("kind", "verified"))
    assert kinds == {"email": True, "external": True}

    device_two = Widget(client, channel).start()
    assert device_two.identify("user-42").status_code == 200
    assert [m["text"] for m in device_two.history()] == ["My first question"]

    intruder = Widget(client, channel).start()
    refused = intruder.identify("user-42", token=identity_token("a-guessed-secret-value-0123456789", "user-42"))
    assert refused.status_code == 403 and refused.json()["code"] == "invalid_identity_token"
    assert intruder.identify("user-42", token="").status_code == 403
    assert intruder.history() == []
    visitor = Visitor.objects.get(visitor_id=intruder.token.split(".")[0])
    assert (visitor.verified, visitor.user_id, visitor.contact_id) == (False, "", None)


def test_without_required_verification_an_identity_is_only_a_detail(client, admin):
    channel = make_webchat_channel(admin, identity_verification=False)
    widget = Widget(client, channel).start()
    assert widget.post("identify", {"email": "someone@example.com", "name": "Some One"}).status_code == 200
    visitor = Visitor.objects.get()
    assert (visitor.verified, visitor.email) == (False, "someone@example.com")
    assert not ContactIdentity.objects.filter(kind="external").exists()


def test_attributes_and_events_from_the_web_app(client, channel):
    widget = Widget(client, channel).start()
    assert widget.post("attributes", {"attributes": {"plan": "pro"}}).status_code == 200
    assert widget.post("events", {"name": "checkout_failed", "properties": {"order": 1001}}).status_code == 201
    assert widget.post("events", {"name": ""}).json()["code"] == "invalid_event"
    widget.say("Payment failed", "c-1")
    contact = Message.objects.get().conversation.contact
    assert contact.attributes == {"plan": "pro"}  # kept on the visitor until the contact existed
    assert widget.post("attributes", {"attributes": {"seats": 5}}).status_code == 200
    contact.refresh_from_db()
    assert contact.attributes == {"plan": "pro", "seats": 5}
    assert VisitorEvent.objects.get().properties == {"order": 1001}


def test_the_webhook_edge_is_closed_for_web_chat(client, channel):
    response = client.post(f"/hooks/webchat/{channel.pk}/", b'{"visitor_id": "x", "client_id": "y"}',
                           content_type="application/json")
    assert response.status_code == 401
    assert Message.objects.count() == 0


def test_bad_messages_are_refused_with_a_reason(client, channel):
    widget = Widget(client, channel).start()
    assert widget.say("", "c-1").json()["code"] == "empty_message"
    assert widget.say("hi", "not valid!").json()["code"] == "invalid_client_id"
    assert widget.say("x" * 10_001, "c-2").json()["code"] == "text_too_long"


def test_signing_in_after_chatting_anonymously_keeps_the_visitors_history(client, channel, admin):
    from threadline.testing import factories
    from threadline.web.tests.helpers import customer_writes

    known = customer_writes(factories.make_api_channel(admin), "Invoice 77?", address="dana@example.com")
    widget = Widget(client, channel).start()
    widget.say("Hello, anyone?", "c-1")
    assert widget.identify("user-42", email="dana@example.com").status_code == 200
    widget.say("It's Dana, signed in now", "c-2")
    assert [m["text"] for m in widget.history()] == ["Invoice 77?", "Hello, anyone?", "It's Dana, signed in now"]
    signed = Message.objects.get(text="It's Dana, signed in now")
    assert signed.conversation.contact_id == known.conversation.contact_id
