"""Widget identity verification across channels: a customer known from email who signs in to the web app
is recognised in the widget by a signed identity (HMAC-SHA256 of the user id with the channel's secret),
continues their open conversation and sees its history; a forged hash is refused and links nothing."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.db import transaction

from threadline.channels.webchat.testkit import SECRET, Widget, make_webchat_channel
from threadline.contacts.models import Contact, ContactIdentity
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, Message
from threadline.testing import factories
from threadline.web.tests.helpers import customer_writes


def user_hash(user_id: str, secret: str = SECRET) -> str:
    """What the web app's server computes, written independently of Threadline's own helper."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def known_customer(admin):
    api = factories.make_api_channel(admin)
    first = customer_writes(api, "Invoice 77 is wrong", address="dana@example.com", name="Dana Levi")
    with transaction.atomic():
        do_send_reply(admin, first.conversation, "We'll fix it today.")
    return first.conversation


def test_a_signed_identity_joins_the_customers_contact_and_open_conversation(client, admin, known_customer):
    chat = make_webchat_channel(admin)
    widget = Widget(client, chat).start()
    response = widget.post("identify", {"user_id": "u-1001", "email": "dana@example.com",
                                        "user_hash": user_hash("u-1001")})
    assert response.status_code == 200 and response.json()["visitor"]["identified"] is True
    assert [m["text"] for m in widget.history()] == ["Invoice 77 is wrong", "We'll fix it today."]
    widget.say("Any news about invoice 77?", "c-1")
    message = Message.objects.get(text="Any news about invoice 77?")
    assert message.conversation_id == known_customer.pk  # the same thread, whatever the channel
    assert message.identity.kind == "email" and message.identity.verified
    assert Contact.objects.count() == 1
    assert set(ContactIdentity.objects.values_list("kind", flat=True)) == {"email", "external", "visitor"}


def test_a_forged_hash_is_refused_and_reveals_nothing(client, admin, known_customer):
    chat = make_webchat_channel(admin)
    widget = Widget(client, chat).start()
    for forged in (user_hash("u-1001", "guessed-secret"), user_hash("u-1002"), "", "0" * 64):
        response = widget.post("identify", {"user_id": "u-1001", "email": "dana@example.com", "user_hash": forged})
        assert response.status_code == 403
        assert response.json()["code"] == "invalid_identity_hash"
    assert widget.history() == []
    widget.say("Show me Dana's invoices", "c-1")
    intruder = Message.objects.get(text="Show me Dana's invoices")
    assert intruder.conversation.contact_id != known_customer.contact_id
    assert intruder.identity.kind == "visitor" and not intruder.identity.verified
    assert not ContactIdentity.objects.filter(kind="external").exists()


def test_another_channels_secret_does_not_verify(client, admin, known_customer):
    chat = make_webchat_channel(admin)
    other = factories.make_workspace("Other Co")
    with transaction.atomic():
        from threadline.channels.actions import do_create_channel

        foreign = do_create_channel(other, "webchat", "Their site", {"secret": "their-own-secret-0123456789"})
    widget = Widget(client, chat).start()
    response = widget.post("identify", {"user_id": "u-1001", "user_hash": user_hash("u-1001",
                                                                                   foreign.config["secret"])})
    assert response.status_code == 403
    assert Conversation.objects.count() == 1
