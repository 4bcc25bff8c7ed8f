"""The bot on Telegram through its real webhook (secret token header): an answer from a Hebrew article with the
"did this answer" inline keyboard (checked by python-telegram-bot's own types against the Bot API's shapes), a
press as a callback query acknowledged with answerCallbackQuery, and every outcome: resolved, handed over,
abandoned; people's hours; the bot's turns as the agent sees them in /app."""

from __future__ import annotations

import copy
import datetime as dt
import re
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import formats, translation
from telegram import Bot, InlineKeyboardMarkup, Update

from threadline.bot import wording
from threadline.bot.models import BotSession, SessionState
from threadline.bot.tests.helpers import bot_turns, enable_bot, publish_article, session_of, support_team
from threadline.channels.fake_provider import FakeProvider
from threadline.channels.telegram.tests.test_telegram_channel import TOKEN, fixture, make_channel, post
from threadline.conversations.models import Conversation, Message, Status
from threadline.core.time import now
from threadline.events.models import OutboxEvent
from threadline.sla.actions import do_save_schedule
from threadline.web.tests.admin_helpers import signed_in

pytestmark = pytest.mark.django_db
QUESTION = "מתי תגיע ההזמנה שלי?"


@pytest.fixture
def bot_api():
    """Telegram's Bot API on loopback: sendMessage answers a Message, answerCallbackQuery True."""
    fake = FakeProvider().start()
    fake.route("POST", f"/bot{TOKEN}/sendMessage", 200, fixture("send_message.json"))
    fake.route("POST", f"/bot{TOKEN}/answerCallbackQuery", 200, {"ok": True, "result": True})
    yield fake
    fake.stop()


@pytest.fixture
def articles(admin, run_jobs):
    publish_article(admin, "he", "מתי ההזמנה שלי תגיע", "משלוחים בארץ מגיעים תוך 3 עד 5 ימי עסקים. "
                    "אפשר לעקוב אחרי ההזמנה בקישור שנשלח במייל.")
    publish_article(admin, "he", "איך מחליפים סיסמה", "בעמוד החשבון לוחצים על שינוי סיסמה.")
    publish_article(admin, "en", "When will my order arrive", "Orders ship within 3 to 5 business days.")
    run_jobs()


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


def last_sent(bot_api) -> dict:
    return bot_api.calls("POST", f"/bot{TOKEN}/sendMessage")[-1].json()


def ask(client, run_jobs, channel, n: int, text: str) -> Conversation:
    assert post(client, channel, update(n, text)).status_code == 202
    run_jobs()
    return Conversation.objects.get()


def test_answers_from_the_hebrew_article_with_an_inline_keyboard_and_yes_resolves(client, admin, run_jobs,
                                                                                  bot_api, articles):
    channel = make_channel(admin, bot_api.url)
    support_team(admin)
    enable_bot(admin, channel.pk, greeting="שלום! אני הבוט של Acme.")
    conversation = ask(client, run_jobs, channel, 1, QUESTION)
    [answer] = bot_turns(conversation)
    assert answer.language == "he" and answer.status == "sent"
    assert answer.text.startswith("שלום! אני הבוט של Acme.") and "מתי ההזמנה שלי תגיע" in answer.text
    link = re.search(r"https?://\S+", answer.text).group(0)
    assert re.fullmatch(r"https?://[^/]+/help/acme/he/articles/\d+-מתי-ההזמנה-שלי-תגיע/", link)  # readable
    assert client.get(quote(urlsplit(link).path)).status_code == 200  # the help center's article page
    assert "משלוחים בארץ מגיעים" in answer.text  # the snippet
    conversation.refresh_from_db()
    assert conversation.team_id is None and conversation.first_response_at is None  # held; no first response
    sent = last_sent(bot_api)
    assert sent["text"] == answer.text
    keyboard = InlineKeyboardMarkup.de_json(sent["reply_markup"], Bot(TOKEN))
    assert [[b.callback_data for b in row] for row in keyboard.inline_keyboard] == [
        [wording.YES], [wording.NO], [wording.HANDOFF]]
    assert all(len(b.callback_data.encode()) <= 64 for row in keyboard.inline_keyboard for b in row)  # Bot API limit

    pressed = press(1, wording.YES, sent["reply_markup"])
    assert Update.de_json(pressed, Bot(TOKEN)).callback_query.data == wording.YES
    assert post(client, channel, pressed).status_code == 202
    run_jobs()
    [acknowledged] = bot_api.calls("POST", f"/bot{TOKEN}/answerCallbackQuery")
    assert acknowledged.json() == {"callback_query_id": "cbq-1"}
    pick = Message.objects.get(provider_message_id="callback:cbq-1")
    assert pick.metadata["choice"] == wording.YES and pick.text == sent["reply_markup"]["inline_keyboard"][0][0]["text"]
    with translation.override("he"):
        assert bot_turns(conversation)[-1].text == wording.glad()
    assert "reply_markup" not in last_sent(bot_api)
    session = session_of(conversation)
    assert session.state == SessionState.ACTIVE and session.helped_at is not None

    with time_machine.travel(now() + dt.timedelta(minutes=31), tick=False):
        run_jobs()
    session.refresh_from_db()
    conversation.refresh_from_db()
    assert session.state == SessionState.RESOLVED and conversation.status == Status.SOLVED
    [resolved] = OutboxEvent.objects.filter(type="bot.resolved")
    assert resolved.payload["conversation_id"] == conversation.pk and resolved.payload["turns"] == 1
    assert not OutboxEvent.objects.filter(type__in=["bot.handed_over", "bot.abandoned"]).exists()
    assert conversation.team_id is None  # people never had to see it


def test_no_then_talk_to_a_person_hands_over_and_the_agent_sees_the_bot_turns(client, admin, run_jobs, bot_api,
                                                                               articles):
    channel = make_channel(admin, bot_api.url)
    team = support_team(admin)
    enable_bot(admin, channel.pk)
    conversation = ask(client, run_jobs, channel, 1, QUESTION)
    post(client, channel, press(1, wording.NO, last_sent(bot_api)["reply_markup"]))
    run_jobs()
    with translation.override("he"):  # the customer's language
        assert bot_turns(conversation)[-1].text == wording.sorry()
        person = wording.person_choice()[0]["label"]
    sent = last_sent(bot_api)
    assert person != "Talk to a person"  # the catalog has it: the button speaks Hebrew
    assert sent["reply_markup"]["inline_keyboard"] == [[{"text": person, "callback_data": wording.HANDOFF}]]
    post(client, channel, press(2, wording.HANDOFF, sent["reply_markup"]))
    run_jobs()
    session = session_of(conversation)
    assert (session.state, session.reason, session.turns) == (SessionState.HANDED_OVER, "asked", 1)
    conversation.refresh_from_db()
    assert conversation.team_id == team.pk and conversation.status != Status.SOLVED
    [handed] = OutboxEvent.objects.filter(type="bot.handed_over")
    assert handed.payload["reason"] == "asked"

    post(client, channel, update(9, "עוד משהו?"))  # after the hand-off the bot stays quiet
    run_jobs()
    assert len(bot_turns(conversation)) == 3

    signed_in(client, admin)
    page = client.get(f"/app/c/{conversation.pk}/").content.decode()
    assert page.count("Answer bot") >= 3 and "item message out bot" in page
    with translation.override("he"):
        offered = [choice["label"] for choice in wording.choices_after_answer()]
    assert all(label in page for label in offered)  # the choices it offered, as the customer saw them
    assert "The answer bot handed over to people: the customer asked for a person" in page


def test_asking_for_a_person_in_words_in_each_language_hands_over(client, admin, run_jobs, bot_api):
    channel = make_channel(admin, bot_api.url)
    support_team(admin)
    enable_bot(admin, channel.pk)
    asks = {"he": "אני רוצה לדבר עם נציג בבקשה", "en": "Can I talk to a human please?",
            "fa": "می‌خواهم با اپراتور صحبت کنم", "th": "ขอคุยกับเจ้าหน้าที่หน่อยครับ",
            "cs": "Chci mluvit s operátorem, prosím."}
    for n, (language, text) in enumerate(asks.items(), 1):
        doc = update(n, text)
        doc["message"]["from"]["id"] = doc["message"]["chat"]["id"] = 500 + n  # a customer each
        assert post(client, channel, doc).status_code == 202
        run_jobs()
        conversation = Conversation.objects.get(contact__identities__address=str(500 + n))
        session = session_of(conversation)
        assert (session.state, session.reason) == (SessionState.HANDED_OVER, "asked"), language
        [turn] = bot_turns(conversation)
        assert turn.language == language
        with translation.override(language):
            assert turn.text == wording.handing_over("asked")
    assert not wording.asks_for_person("ההזמנה שלי לא הגיעה") and not wording.asks_for_person("คนส่งของมาแล้ว")


def test_low_confidence_says_so_and_hands_over_outside_hours_saying_when(client, admin, run_jobs, bot_api,
                                                                        articles):
    channel = make_channel(admin, bot_api.url)
    team = support_team(admin)
    with transaction.atomic():
        schedule = do_save_schedule(admin.workspace, None, name="Office", time_zone="Asia/Jerusalem",
                                    weekly={"mon": [["09:00", "17:00"]]})
    enable_bot(admin, channel.pk, schedule_id=schedule.pk)
    admin.workspace.time_zone = "Asia/Jerusalem"
    admin.workspace.save()
    saturday_night = dt.datetime(2026, 12, 5, 22, 0, tzinfo=dt.UTC)  # Sunday 00:00 in Jerusalem: closed
    with time_machine.travel(saturday_night, tick=False):
        conversation = ask(client, run_jobs, channel, 1, "יש לכם חנות פיזית בחיפה?")
    [turn] = bot_turns(conversation)
    with translation.override("he"):
        assert turn.text.startswith(wording.not_found())
        assert wording.handing_over("low_confidence") in turn.text
        opening = dt.datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Asia/Jerusalem"))  # Monday 09:00 there

        assert wording.away(formats.date_format(opening, "DATETIME_FORMAT")) in turn.text
    assert session_of(conversation).reason == "low_confidence"
    conversation.refresh_from_db()
    assert conversation.team_id == team.pk


def test_silence_after_an_answer_is_abandoned_and_the_turn_cap_hands_over(client, admin, run_jobs, bot_api, articles):
    channel = make_channel(admin, bot_api.url)
    support_team(admin)
    enable_bot(admin, channel.pk, max_turns=1, abandon_hours=2)
    conversation = ask(client, run_jobs, channel, 1, QUESTION)
    with time_machine.travel(now() + dt.timedelta(hours=3), tick=False):
        run_jobs()
    session = session_of(conversation)
    assert session.state == SessionState.ABANDONED
    assert OutboxEvent.objects.filter(type="bot.abandoned").count() == 1

    BotSession.objects.all().delete()
    Conversation.objects.update(status=Status.CLOSED)
    doc = update(2, QUESTION)
    doc["message"]["from"]["id"] = doc["message"]["chat"]["id"] = 777
    post(client, channel, doc)
    run_jobs()
    second = Conversation.objects.get(contact__identities__address="777")
    post(client, channel, {**update(3, "איך מחליפים סיסמה"), "message": {**doc["message"], "message_id": 3003,
                                                                         "text": "איך מחליפים סיסמה"}})
    run_jobs()
    session = session_of(second)
    assert (session.state, session.reason, session.turns) == (SessionState.HANDED_OVER, "max_turns", 1)


def test_bot_off_leaves_the_conversation_to_routing(client, admin, run_jobs, bot_api):
    channel = make_channel(admin, bot_api.url)
    team = support_team(admin)
    enable_bot(admin, channel.pk).delete()
    conversation = ask(client, run_jobs, channel, 1, "שלום")
    assert bot_turns(conversation) == [] and not BotSession.objects.exists()
    conversation.refresh_from_db()
    assert conversation.team_id == team.pk


def test_an_agent_answering_first_takes_the_conversation_from_the_bot(client, admin, run_jobs, bot_api, articles):
    from threadline.conversations.actions import do_send_reply

    channel = make_channel(admin, bot_api.url)
    support_team(admin)
    enable_bot(admin, channel.pk)
    conversation = ask(client, run_jobs, channel, 1, QUESTION)
    with transaction.atomic():
        do_send_reply(admin, conversation, "Hi, Ada here, let me check.")
    run_jobs()
    ask(client, run_jobs, channel, 2, "איך מחליפים סיסמה")
    session = session_of(conversation)
    assert (session.state, session.reason) == (SessionState.HANDED_OVER, "assigned")
    assert len(bot_turns(conversation)) == 1  # it said nothing more
