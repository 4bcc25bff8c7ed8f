"""The bot on Telegram through its real webhook (secret token header): the inline keyboard checked against
the Bot API's documented shapes (python-telegram-bot parses them), a pick as a callback query answered with
answerCallbackQuery, and the hand-off to the support team."""

from __future__ import annotations

import copy

import pytest
from django.utils import translation
from telegram import Bot, InlineKeyboardMarkup, Update

from threadline.bot import wording
from threadline.bot.models import BotSession, SessionState
from threadline.bot.tests.helpers import bot_turns, enable_bot, session_of, support_team
from threadline.channels.fake_provider import FakeProvider
from threadline.channels.telegram.tests.test_telegram_channel import TOKEN, fixture, make_channel, post
from threadline.conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot_api():
    """Telegram's Bot API on loopback: sendMessage answers a Message, answerCallbackQuery True."""
    fake = FakeProvider().start()
    fake.route("POST", f"/bot{TOKEN}/sendMessage", 200, fixture("send_message.json"))
    fake.route("POST", f"/bot{TOKEN}/answerCallbackQuery", 200, {"ok": True, "result": True})
    yield fake
    fake.stop()


def update(n: int, text: str) -> dict:
    doc = copy.deepcopy(fixture("text.json"))
    doc["update_id"] = 20000 + n
    doc["message"]["message_id"] = 2000 + n
    doc["message"]["text"] = text
    return doc


def press(n: int, data: str, keyboard: dict) -> dict:
    doc = copy.deepcopy(fixture("callback_query.json"))
    doc["update_id"] = 30000 + n
    doc["callback_query"]["id"] = f"cbq-{n}"
    doc["callback_query"]["data"] = data
    doc["callback_query"]["message"]["reply_markup"] = keyboard
    return doc


def test_asking_for_a_person_in_hebrew_hands_over_on_telegram(client, admin, run_jobs, bot_api):
    channel = make_channel(admin, bot_api.url)
    team = support_team(admin)
    enable_bot(admin, channel.pk)
    assert post(client, channel, update(1, "אני רוצה לדבר עם נציג בבקשה")).status_code == 202
    run_jobs()
    conversation = Conversation.objects.get()
    session = session_of(conversation)
    assert (session.state, session.reason) == (SessionState.HANDED_OVER, "asked")
    [turn] = bot_turns(conversation)
    assert turn.language == "he" and turn.status == "sent"
    with translation.override("he"):
        assert turn.text == wording.handing_over("asked")
    conversation.refresh_from_db()
    assert conversation.team_id == team.pk  # routed like any conversation once handed over
    sent = bot_api.calls("POST", f"/bot{TOKEN}/sendMessage")[0].json()
    assert sent["chat_id"] == "111222333" and "reply_markup" not in sent


def test_low_confidence_says_so_then_hands_over(client, admin, run_jobs, bot_api):
    channel = make_channel(admin, bot_api.url)
    team = support_team(admin)
    enable_bot(admin, channel.pk, threshold=0.99)
    post(client, channel, update(1, "שלום, ההזמנה שלי לא הגיעה"))
    run_jobs()
    conversation = Conversation.objects.get()
    assert session_of(conversation).reason == "low_confidence"
    [turn] = bot_turns(conversation)
    with translation.override("he"):
        assert turn.text.startswith(wording.not_found())
    conversation.refresh_from_db()
    assert conversation.team_id == team.pk


def test_bot_off_leaves_the_conversation_to_routing(client, admin, run_jobs, bot_api):
    channel = make_channel(admin, bot_api.url)
    team = support_team(admin)
    enable_bot(admin, channel.pk).delete()
    post(client, channel, update(1, "שלום"))
    run_jobs()
    conversation = Conversation.objects.get()
    assert bot_turns(conversation) == [] and not BotSession.objects.exists()
    assert conversation.team_id == team.pk


def test_choices_become_an_inline_keyboard_and_a_press_comes_back_as_the_choice(client, admin, run_jobs, bot_api):
    """The "did this answer" buttons as Telegram's InlineKeyboardMarkup; pressing "Talk to a person" arrives as
    a callback_query, is acknowledged with answerCallbackQuery and hands the conversation over."""
    channel = make_channel(admin, bot_api.url)
    support_team(admin)
    enable_bot(admin, channel.pk, threshold=0.99)
    post(client, channel, update(1, "hello"))
    run_jobs()
    conversation = Conversation.objects.get()
    from threadline.conversations.models import Status

    # a conversation the bot still holds, with its buttons pending (set up as an answered turn would leave it)
    session = session_of(conversation)
    session.state, session.pending_choices = SessionState.ACTIVE, [wording.YES, wording.NO, wording.HANDOFF]
    session.save()
    conversation.status, conversation.team = Status.OPEN, None
    conversation.save()
    from django.db import transaction

    from threadline.replies.actions import do_send_bot_message

    with transaction.atomic(), translation.override("he"):
        do_send_bot_message(conversation, "Did this answer your question?", language="he",
                            choices=wording.choices_after_answer())
    run_jobs()
    sent = bot_api.calls("POST", f"/bot{TOKEN}/sendMessage")[-1].json()
    keyboard = InlineKeyboardMarkup.de_json(sent["reply_markup"], Bot(TOKEN))
    assert [[b.callback_data for b in row] for row in keyboard.inline_keyboard] == [
        [wording.YES], [wording.NO], [wording.HANDOFF]]
    assert all(len(b.callback_data.encode()) <= 64 for row in keyboard.inline_keyboard for b in row)  # Bot API limit
    pressed = press(1, wording.HANDOFF, sent["reply_markup"])
    assert Update.de_json(pressed, Bot(TOKEN)).callback_query.data == wording.HANDOFF
    assert post(client, channel, pressed).status_code == 202
    run_jobs()
    [answered] = bot_api.calls("POST", f"/bot{TOKEN}/answerCallbackQuery")
    assert answered.json() == {"callback_query_id": "cbq-1"}
    pick = Message.objects.get(provider_message_id="callback:cbq-1")
    assert pick.metadata["choice"] == wording.HANDOFF and pick.text == sent["reply_markup"]["inline_keyboard"][2][0]["text"]
    session.refresh_from_db()
    assert (session.state, session.reason) == (SessionState.HANDED_OVER, "asked")
