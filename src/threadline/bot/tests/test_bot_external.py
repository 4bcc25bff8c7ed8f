"""An external bot platform as the channel's bot (Amazon Lex V2 on its local fake, which checks the SigV4
signature): its answers become bot turns with "talk to a person" added, its hand-off intent hands over."""

from __future__ import annotations

import pytest

from threadline.bot import wording
from threadline.bot.models import SessionState
from threadline.bot.tests.helpers import bot_turns, enable_bot, session_of, support_team
from threadline.bot.tests.test_bot_telegram import bot_api, update  # noqa: F401 - the Bot API fixture
from threadline.botplatforms.testkit import FakeLexV2
from threadline.channels.telegram.tests.test_telegram_channel import TOKEN, make_channel, post
from threadline.conversations.models import Conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def lex():
    fake = FakeLexV2().start()
    yield fake
    fake.stop()


def test_lex_answers_then_its_handoff_intent_hands_over(client, admin, run_jobs, bot_api, lex):  # noqa: F811
    channel = make_channel(admin, bot_api.url)
    team = support_team(admin)
    enable_bot(admin, channel.pk, mode="external", external_kind="lex_v2",
               external_config=lex.config(handoff_intents=["TalkToAgent"]))
    post(client, channel, update(1, "Where is my parcel?"))
    run_jobs()
    conversation = Conversation.objects.get()
    [turn] = bot_turns(conversation)
    assert turn.text == "echo: Where is my parcel?"
    assert [c["id"] for c in turn.metadata["choices"]] == [wording.HANDOFF]
    assert session_of(conversation).state == SessionState.ACTIVE
    conversation.refresh_from_db()
    assert conversation.team_id is None  # the bot holds it: routing waits
    [call] = lex.calls("/text")
    assert call.json()["text"] == "Where is my parcel?"

    lex.bot = lambda session, text, locale: ([{"contentType": "PlainText", "content": "Connecting you."}],
                                             {"dialogAction": {"type": "Close"},
                                              "intent": {"name": "TalkToAgent", "state": "Fulfilled"}})
    post(client, channel, update(2, "Can you check it again please"))  # no keyword: the platform decides
    run_jobs()
    session = session_of(conversation)
    assert (session.state, session.reason) == (SessionState.HANDED_OVER, "external")
    assert [t.text for t in bot_turns(conversation)] == ["echo: Where is my parcel?", "Connecting you."]
    conversation.refresh_from_db()
    assert conversation.team_id == team.pk
    sent = bot_api.calls("POST", f"/bot{TOKEN}/sendMessage")
    assert "reply_markup" not in sent[-1].json()


def test_an_unreachable_platform_hands_over_instead_of_losing_the_customer(client, admin, run_jobs, bot_api, lex):  # noqa: F811
    channel = make_channel(admin, bot_api.url)
    team = support_team(admin)
    enable_bot(admin, channel.pk, mode="external", external_kind="lex_v2",
               external_config=lex.config(handoff_intents=["TalkToAgent"]))
    lex.outage = (503, {"message": "Service Unavailable"}, {})
    post(client, channel, update(1, "Where is my parcel?"))
    run_jobs()
    conversation = Conversation.objects.get()
    assert session_of(conversation).reason == "external_failed"
    conversation.refresh_from_db()
    assert conversation.team_id == team.pk and len(bot_turns(conversation)) == 1
