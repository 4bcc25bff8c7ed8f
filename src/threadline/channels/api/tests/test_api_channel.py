from __future__ import annotations

import json

from threadline.channels.models import InboundEvent
from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation, Message
from threadline.testing.factories import make_api_channel, signed_body

MESSAGE = {
    "message_id": "shop-1001",
    "sender": {"kind": "email", "address": "Dana.Levi@Example.COM", "name": "Dana Levi", "verified": True},
    "text": "שלום, ההזמנה שלי לא הגיעה",
    "subject": "Order 1001",
}


def post(client, channel, document, **extra):
    body, headers = signed_body(channel, document)
    return client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json", **headers, **extra)


def test_inbound_message_creates_contact_and_conversation(client, admin, run_jobs):
    channel = make_api_channel(admin)
    response = post(client, channel, MESSAGE)
    assert response.status_code == 202, response.content
    assert run_jobs() >= 1
    message = Message.objects.get(provider_message_id="shop-1001")
    assert message.text == MESSAGE["text"]
    contact = message.conversation.contact
    assert contact.name == "Dana Levi"
    assert list(contact.identities.values_list("kind", "address", "verified")) == [
        ("email", "dana.levi@example.com", True)
    ]
    assert message.conversation.subject == "Order 1001"
    assert InboundEvent.objects.get().state == InboundEvent.State.PROCESSED


def test_same_provider_message_id_is_stored_once(client, admin, run_jobs):
    channel = make_api_channel(admin)
    first = post(client, channel, MESSAGE)
    second = post(client, channel, MESSAGE)
    run_jobs()
    assert (first.status_code, second.status_code) == (202, 200)
    assert json.loads(second.content)["status"] == "duplicate"
    assert Message.objects.count() == 1
    assert Contact.objects.count() == 1


def test_tampered_body_is_refused_and_nothing_stored(client, admin):
    channel = make_api_channel(admin)
    body, headers = signed_body(channel, MESSAGE)
    response = client.post(f"/hooks/api/{channel.pk}/", body.replace(b"1001", b"1002"),
                           content_type="application/json", **headers)
    assert response.status_code == 401
    assert json.loads(response.content)["code"] == "invalid_signature"
    assert InboundEvent.objects.count() == 0


def test_missing_signature_and_bad_json(client, admin):
    channel = make_api_channel(admin)
    missing = client.post(f"/hooks/api/{channel.pk}/", b"{}", content_type="application/json")
    assert missing.status_code == 401
    body = b"not json"
    bad = client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json",
                      HTTP_X_THREADLINE_SIGNATURE="sha256=" + __import__("hmac").new(
                          channel.config["secret"].encode(), body, "sha256").hexdigest())
    assert bad.status_code == 400
    assert json.loads(bad.content)["code"] == "invalid_payload"


def test_second_message_threads_into_open_conversation(client, admin, run_jobs):
    channel = make_api_channel(admin)
    post(client, channel, MESSAGE)
    post(client, channel, {**MESSAGE, "message_id": "shop-1002", "text": "עדכון?"})
    run_jobs()
    assert Conversation.objects.count() == 1
    assert Message.objects.filter(conversation=Conversation.objects.get()).count() == 2
