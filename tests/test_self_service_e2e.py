"""Acceptance of issue 13, end to end through the real HTTP stack, the widget's socket, SMTP and the worker:
a customer asks in Hebrew in the widget while no agent is online; the bot answers from the Hebrew article; the
customer says it did not help and asks for a person; an agent then sees the bot's turns in the same
conversation and replies by email; the customer signs into the portal with a one-time link and sees the whole
request (their questions, the bot's answers, the agent's reply)."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from django.utils import translation

from threadline.bot import wording
from threadline.bot.models import BotSession, SessionState
from threadline.bot.tests.helpers import bot_answers, enable_bot, publish_article, support_team, work
from threadline.channels.email.testkit import make_email_channel, running_sink
from threadline.channels.webchat.testkit import Widget, make_webchat_channel, socket_path
from threadline.conversations.models import AuthorKind, Conversation, Message
from threadline.realtime.testkit import (  # noqa: F401
    WebsocketCommunicator,
    application,
    in_worker_thread,
    realtime,
    receive_until,
)
from threadline.testing.factories import make_token
from threadline.testing.mailbox import link_in, wait_for_mail
from threadline.web.tests.admin_helpers import signed_in

pytestmark = pytest.mark.usefixtures("realtime")
QUESTION = "מתי תגיע ההזמנה שלי?"
ARTICLE = "מתי ההזמנה שלי תגיע"


@pytest.fixture
def smtp_sink():
    yield from running_sink()


def test_hebrew_widget_bot_hand_off_email_reply_and_portal(transactional_db, admin, client, smtp_sink,
                                                           system_mail):
    publish_article(admin, "he", ARTICLE, "משלוחים בארץ מגיעים תוך 3 עד 5 ימי עסקים. "
                    "אפשר לעקוב אחרי ההזמנה בקישור שנשלח במייל.")
    publish_article(admin, "he", "איך מחליפים סיסמה", "בעמוד החשבון לוחצים על שינוי סיסמה.")
    work()
    email_channel = make_email_channel(admin, relay_url=smtp_sink.url, display_name="Acme Support")
    chat = make_webchat_channel(admin)
    team = support_team(admin)
    enable_bot(admin)
    widget = Widget(client, chat).start()
    assert widget.identify("user-42", email="dana@example.com", name="דנה לוי").status_code == 200

    async def customer_in_the_widget() -> dict:
        tab = WebsocketCommunicator(application(), socket_path(chat, widget.token, "he"))
        assert (await tab.connect())[0]
        welcome = await receive_until(tab, lambda m: m["type"] == "welcome")
        assert welcome["agents_available"] is False  # nobody online

        answer = await bot_answers(tab, "q-1", QUESTION)
        no = next(c for c in answer["choices"] if c["id"] == wording.NO)
        sorry = await bot_answers(tab, "q-2", no["label"], no["id"])
        handing = await bot_answers(tab, "q-3", "זה לא עזר, אני רוצה לדבר עם נציג")
        await tab.disconnect()
        return {"answer": answer, "sorry": sorry, "handing": handing}

    said = async_to_sync(customer_in_the_widget)()
    assert ARTICLE in said["answer"]["text"] and "/help/acme/he/articles/" in said["answer"]["text"]
    with translation.override("he"):
        assert said["sorry"]["text"] == wording.sorry()
        assert said["handing"]["text"].startswith(wording.handing_over("asked"))
    conversation = Conversation.objects.get()
    assert BotSession.objects.get().state == SessionState.HANDED_OVER
    assert conversation.team_id == team.pk and conversation.language == "he"
    assert Message.objects.filter(conversation=conversation).count() == 6  # one conversation, every turn

    # the agent, later, sees the bot's turns in the same conversation and answers by email
    signed_in(client, admin)
    page = client.get(f"/app/c/{conversation.pk}/").content.decode()
    assert page.count("Answer bot") >= 3 and ARTICLE in page and QUESTION in page
    api = Client(HTTP_AUTHORIZATION=f"Bearer {make_token(admin)}")
    sent = api.post(f"/api/v1/conversations/{conversation.pk}/messages", json.dumps(
        {"text": "שלום דנה, בדקתי: ההזמנה יצאה אתמול ותגיע מחר.", "channel_id": email_channel.pk}),
        content_type="application/json")
    assert sent.status_code == 201, sent.content
    work()
    [mail] = wait_for_mail(smtp_sink)
    assert mail.rcpt_tos == ["dana@example.com"] and "ההזמנה יצאה אתמול" in mail.message.get_body(("plain",)).get_content()
    reply = Message.objects.get(pk=sent.json()["id"])
    assert reply.author_kind == AuthorKind.AGENT and reply.status == "sent" and reply.conversation_id == conversation.pk

    # the customer signs into the portal with a one-time link and sees the whole request
    browser = Client()
    portal = f"/portal/{admin.workspace.slug}/"
    assert browser.post(portal + "sign-in/email", {"email": "dana@example.com"}).status_code == 200
    work()
    path = link_in(wait_for_mail(system_mail)[0], f"portal/{admin.workspace.slug}/link")
    assert browser.post(path + "/").status_code == 302
    home = browser.get(portal).content.decode()
    assert f"requests/{conversation.pk}/" in home
    request = browser.get(f"{portal}requests/{conversation.pk}/").content.decode()
    for text in (QUESTION, ARTICLE, "זה לא עזר, אני רוצה לדבר עם נציג", "ההזמנה יצאה אתמול ותגיע מחר"):
        assert text in request, text
