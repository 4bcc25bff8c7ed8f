"""Offline to email: with nobody online the widget says so and takes an email; the agent's reply, with the
visitor gone, goes out by email through the email channel's relay; the customer's emailed answer threads back
into the same conversation. While the visitor has the widget open, replies are not emailed."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.db import transaction

from threadline.channels.email import edge
from threadline.channels.email.testkit import make_email_channel, running_sink
from threadline.channels.webchat.testkit import Widget, make_webchat_channel
from threadline.contacts.models import ContactIdentity
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import DeliveryStatus, Message
from threadline.realtime import presence
from threadline.realtime.testkit import realtime  # noqa: F401

pytestmark = pytest.mark.usefixtures("realtime")


@pytest.fixture
def smtp_sink():
    yield from running_sink()


@pytest.fixture
def channels(admin, smtp_sink):
    email = make_email_channel(admin, "support@acme.test", relay_url=smtp_sink.url, display_name="Acme Support")
    return make_webchat_channel(admin), email


def reply(admin, conversation, text, run_jobs):
    with transaction.atomic():
        message = do_send_reply(admin, conversation, text)
    run_jobs()
    message.refresh_from_db()
    return message


def test_the_conversation_continues_by_email_when_nobody_is_online(client, admin, channels, smtp_sink, run_jobs):
    chat, email = channels
    widget = Widget(client, chat).start()
    config = client.get(f"/widget/{chat.pk}/config").json()
    assert config["agents_available"] is False  # the widget says nobody is online, and asks for an email
    assert widget.post("details", {"email": "Noa@Example.com", "name": "Noa Cohen"}).status_code == 200
    widget.say("My seeds never came", "c-1")
    first = Message.objects.get()
    contact = first.conversation.contact
    assert contact.name == "Noa Cohen"
    # typed, not signed: kept as a detail, never an identity that would draw noa@example.com's mail in here
    assert not ContactIdentity.objects.filter(contact=contact, kind="email").exists()
    assert contact.attributes["unverified_email"] == "noa@example.com"

    sent = reply(admin, first.conversation, "Sorry Noa, new seeds are on their way.", run_jobs)
    assert sent.status == DeliveryStatus.SENT and sent.channel_id == chat.pk
    mail = smtp_sink.handler.received[-1]
    assert mail.rcpt_tos == ["noa@example.com"]
    assert "new seeds are on their way" in mail.message.get_body(("plain",)).get_content()
    assert sent.provider_message_id == mail.message["Message-ID"]  # so the answer threads on it
    assert [m["text"] for m in widget.history()][-1] == "Sorry Noa, new seeds are on their way."

    answer = EmailMessage()
    answer["From"] = "Noa Cohen <noa@example.com>"
    answer["To"] = "support@acme.test"
    answer["Subject"] = "Re: " + mail.message["Subject"]
    answer["Message-ID"] = "<answer-1@mail.example.com>"
    answer["In-Reply-To"] = mail.message["Message-ID"]
    answer["References"] = mail.message["Message-ID"]
    answer.set_content("Thanks! Will they arrive before Friday?")
    edge.store(email, answer.as_bytes(), transport="smtp", envelope_from="noa@example.com",
               recipients=["support@acme.test"])
    run_jobs()
    emailed = Message.objects.get(provider_message_id="<answer-1@mail.example.com>")
    assert emailed.conversation_id == first.conversation_id
    assert emailed.channel_id == email.pk
    assert emailed.conversation.contact_id == contact.pk


def test_replies_are_not_emailed_while_the_visitor_is_on_the_page(client, admin, channels, smtp_sink, run_jobs):
    chat, _email = channels
    widget = Widget(client, chat).start()
    widget.post("details", {"email": "noa@example.com"})
    widget.say("Quick question", "c-1")
    conversation = Message.objects.get().conversation
    presence.contact_connected(conversation.contact_id, "tab-1")  # the widget's socket is open
    sent = reply(admin, conversation, "Sure, ask away!", run_jobs)
    assert sent.status == DeliveryStatus.SENT and sent.provider_message_id == f"webchat-{sent.pk}"
    assert smtp_sink.handler.received == []
    presence.contact_disconnected(conversation.contact_id, "tab-1")
    reply(admin, conversation, "Are you still there?", run_jobs)
    assert [m.rcpt_tos for m in smtp_sink.handler.received] == [["noa@example.com"]]


def test_without_an_email_an_away_visitor_finds_the_reply_in_the_widget(client, admin, channels, smtp_sink, run_jobs):
    chat, _email = channels
    widget = Widget(client, chat).start()
    widget.say("Hello?", "c-1")
    sent = reply(admin, Message.objects.get().conversation, "Hi! We are here now.", run_jobs)
    assert sent.status == DeliveryStatus.SENT
    assert smtp_sink.handler.received == []
    assert widget.history()[-1]["text"] == "Hi! We are here now."


def test_an_online_agent_makes_the_widget_say_so(client, admin, channels):
    chat, _email = channels
    presence.agent_connected(admin.pk, "agent-socket")
    assert client.get(f"/widget/{chat.pk}/config").json()["agents_available"] is True
    presence.set_agent_choice(admin.pk, "away")
    assert client.get(f"/widget/{chat.pk}/config").json()["agents_available"] is False
