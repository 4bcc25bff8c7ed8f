"""The bot on email: it answers a new email once, through the real SMTP path, with the suggested articles and
"reply to reach a person" (marked Auto-Submitted), hands the conversation to people at once, and never answers
an auto-responder, neither a new one nor one answering the bot (no mail loop)."""

from __future__ import annotations

import pytest
from tests.test_email_threading import inbound

from threadline.bot.models import BotSession, SessionState
from threadline.bot.tests.helpers import bot_turns, enable_bot, publish_article, session_of, support_team
from threadline.channels.email.testkit import make_email_channel, running_sink
from threadline.conversations.models import Conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp_sink():
    yield from running_sink()


@pytest.fixture
def channel(admin, smtp_sink, run_jobs):
    publish_article(admin, "en", "When will my order arrive", "Orders ship within 3 to 5 business days.")
    publish_article(admin, "en", "Track your order", "Every order has a tracking link in its shipping email.")
    run_jobs()
    enable_bot(admin)
    return make_email_channel(admin, relay_url=smtp_sink.url, display_name="Acme Support")


def test_email_is_answered_once_with_articles_then_people_take_it(channel, admin, run_jobs, smtp_sink):
    team = support_team(admin)
    first = inbound(channel, run_jobs, subject="My order", body="When will my order arrive? I want to track it.")
    conversation = first.conversation
    [answer] = bot_turns(conversation)
    assert answer.status == "sent"
    mail = smtp_sink.handler.received[-1].message
    assert mail["Auto-Submitted"] == "auto-generated" and mail["In-Reply-To"] == "<m1@mail.example.com>"
    text = mail.get_body(("plain",)).get_content()
    assert "When will my order arrive: http" in text and "/help/acme/en/articles/" in text
    assert "reply to this email to reach a person" in text
    session = session_of(conversation)
    assert (session.state, session.reason) == (SessionState.HANDED_OVER, "email")
    conversation.refresh_from_db()
    assert conversation.team_id == team.pk

    ooo = inbound(channel, run_jobs, message_id="<ooo@mail.example.com>", subject="Automatic reply: My order",
                  In_Reply_To=answer.provider_message_id, Auto_Submitted="auto-replied",
                  body="I am out of the office until Monday.")
    assert ooo.conversation_id == conversation.pk and ooo.metadata["suppress_auto_response"] is True
    inbound(channel, run_jobs, message_id="<m3@mail.example.com>", In_Reply_To=answer.provider_message_id,
            body="That did not help, where is it?")
    assert len(bot_turns(conversation)) == 1 and len(smtp_sink.handler.received) == 1


def test_an_auto_responder_starting_a_conversation_gets_no_answer(channel, admin, run_jobs, smtp_sink):
    team = support_team(admin)
    ooo = inbound(channel, run_jobs, sender="robot@example.net", message_id="<auto@example.net>",
                  subject="Out of office", body="When will my order arrive? I am away.", Auto_Submitted="auto-replied")
    assert bot_turns(ooo.conversation) == [] and not BotSession.objects.exists()
    assert smtp_sink.handler.received == []
    assert Conversation.objects.get().team_id == team.pk


def test_a_portal_request_goes_to_people_not_the_bot(channel, admin, run_jobs):
    """The help center's "contact us" (a portal message) is for people: the bot never holds it."""
    from django.db import transaction

    from threadline.portal.actions import do_submit_request

    team = support_team(admin)
    with transaction.atomic():
        do_submit_request(workspace=admin.workspace, email="dana@example.com", name="Dana", subject="Order",
                          text="When will my order arrive?", source="help_center")
    run_jobs()
    conversation = Conversation.objects.get()
    assert conversation.origin_channel.kind == "portal"
    assert not BotSession.objects.exists() and bot_turns(conversation) == []
    assert conversation.team_id == team.pk
