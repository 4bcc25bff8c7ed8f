"""The bot in the chat widget, over the widget's socket: a Hebrew question answered from the Hebrew article with
buttons under the answer; a press sends the choice; "talk to a person" hands over."""

from __future__ import annotations

import pytest
from django.utils import translation

from threadline.bot import wording
from threadline.bot.models import BotSession, SessionState
from threadline.bot.tests.helpers import bot_answers, enable_bot, publish_article, support_team, work
from threadline.channels.webchat.testkit import Widget, make_webchat_channel, socket_path
from threadline.conversations.models import Conversation
from threadline.realtime.testkit import (  # noqa: F401
    WebsocketCommunicator,
    application,
    in_worker_thread,
    realtime,
    receive_until,
)

pytestmark = pytest.mark.usefixtures("realtime")


def test_widget_conversation_with_the_bot_answering_from_a_hebrew_article(transactional_db, admin, client):
    publish_article(admin, "he", "מתי ההזמנה שלי תגיע", "משלוחים בארץ מגיעים תוך 3 עד 5 ימי עסקים.")
    publish_article(admin, "he", "איך מחליפים סיסמה", "בעמוד החשבון לוחצים על שינוי סיסמה.")
    work()
    channel = make_webchat_channel(admin)
    team = support_team(admin)
    enable_bot(admin)
    token = Widget(client, channel).start().token

    async def scenario():
        tab = WebsocketCommunicator(application(), socket_path(channel, token, "he"))
        assert (await tab.connect())[0]
        await receive_until(tab, lambda m: m["type"] == "welcome")
        answer = await bot_answers(tab, "m-1", "מתי תגיע ההזמנה שלי?")
        assert "מתי ההזמנה שלי תגיע" in answer["text"] and "/help/acme/he/articles/" in answer["text"]
        assert [c["id"] for c in answer["choices"]] == [wording.YES, wording.NO, wording.HANDOFF]

        await tab.send_json_to({"type": "message", "client_id": "m-2", "text": "x", "choice": "not valid!"})
        refused = await receive_until(tab, lambda m: m["type"] == "error")
        assert refused["code"] == "invalid_choice" and refused["client_id"] == "m-2"

        sorry = await bot_answers(tab, "m-3", answer["choices"][1]["label"], wording.NO)
        with translation.override("he"):
            assert sorry["text"] == wording.sorry()
        assert [c["id"] for c in sorry["choices"]] == [wording.HANDOFF]
        handing = await bot_answers(tab, "m-4", sorry["choices"][0]["label"], wording.HANDOFF)
        assert handing["choices"] == []
        await tab.disconnect()

    from asgiref.sync import async_to_sync

    async_to_sync(scenario)()
    session = BotSession.objects.get()
    assert (session.state, session.reason) == (SessionState.HANDED_OVER, "asked")
    assert Conversation.objects.get().team_id == team.pk
