"""The same question on WhatsApp through Meta's signed webhook: the bot's answer goes out as interactive reply
buttons exactly as WhatsApp documents them (the payload equals the one pywa, a WhatsApp Cloud API client,
builds for the same buttons; titles at most 20 characters, at most 3 buttons), and the customer's tap comes
back as `interactive.button_reply` and hands over."""

from __future__ import annotations

import json

import httpx
import pytest
from pywa import WhatsApp
from pywa.types import Button

from threadline.bot import wording
from threadline.bot.models import SessionState
from threadline.bot.tests.helpers import bot_turns, enable_bot, publish_article, session_of, support_team
from threadline.channels.fake_provider import FakeProvider
from threadline.channels.whatsapp.tests.helpers import (
    PHONE_NUMBER_ID,
    fixture,
    make_whatsapp_channel,
    meta_post,
)
from threadline.conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db
CUSTOMER = "16505551234"


@pytest.fixture
def graph():
    fake = FakeProvider().start()
    fake.route("POST", f"/{PHONE_NUMBER_ID}/messages", 200, fixture("send_response.json", out_id="wamid.bot-out"))
    yield fake
    fake.stop()


def inbound(name: str, n: int, **message: object) -> bytes:
    doc = json.loads(fixture(name))
    item = doc["entry"][0]["changes"][0]["value"]["messages"][0]
    item.update(message, id=f"wamid.customer-{n}")
    return json.dumps(doc).encode()


def pywa_payload(to: str, text: str, choices: list[dict[str, str]]) -> dict:
    """What pywa sends WhatsApp's /messages for a text with these reply buttons (captured, never sent)."""
    captured: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        captured.append(json.loads(request.content))
        return httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.x"}],
                                         "contacts": [{"input": CUSTOMER, "wa_id": CUSTOMER}]})

    client = WhatsApp(phone_id=PHONE_NUMBER_ID, token="test", session=httpx.Client(transport=httpx.MockTransport(answer)))
    client.send_message(to=to, text=text,
                        buttons=[Button(title=c["label"], callback_data=c["id"]) for c in choices])
    return captured[0]


def test_whatsapp_answer_as_reply_buttons_and_the_tap_hands_over(client, admin, run_jobs, graph):
    publish_article(admin, "en", "When will my order arrive", "Orders ship within 3 to 5 business days. "
                    "Track your parcel with the link in the email.")
    run_jobs()
    channel = make_whatsapp_channel(admin, graph.url)
    team = support_team(admin)
    enable_bot(admin)  # the workspace's bot: every channel
    response = meta_post(client, channel, inbound("text.json", 1, text={"body": "When will my order arrive?"}))
    assert response.status_code == 202
    run_jobs()
    conversation = Conversation.objects.get()
    [answer] = bot_turns(conversation)
    assert "When will my order arrive" in answer.text and answer.metadata["choices"] == wording.choices_after_answer()
    [call] = graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages")
    sent = call.json()
    assert sent == pywa_payload(sent["to"], answer.text, answer.metadata["choices"]) and sent["to"] == f"+{CUSTOMER}"
    buttons = sent["interactive"]["action"]["buttons"]
    assert sent["type"] == "interactive" and sent["interactive"]["type"] == "button" and len(buttons) <= 3
    assert all(len(b["reply"]["title"]) <= 20 and b["type"] == "reply" for b in buttons)
    assert len(sent["interactive"]["body"]["text"]) <= 1024
    assert answer.provider_message_id == "wamid.bot-out"

    tap = inbound("interactive_button_reply.json", 2, context={"from": "15550783881", "id": "wamid.bot-out"},
                  interactive={"type": "button_reply", "button_reply": {"id": wording.HANDOFF,
                                                                        "title": "Talk to a person"}})
    assert meta_post(client, channel, tap).status_code == 202
    run_jobs()
    pick = Message.objects.get(provider_message_id="wamid.customer-2")
    assert pick.metadata["choice"] == wording.HANDOFF and pick.text == "Talk to a person"
    assert pick.conversation_id == conversation.pk
    session = session_of(conversation)
    assert (session.state, session.reason) == (SessionState.HANDED_OVER, "asked")
    conversation.refresh_from_db()
    assert conversation.team_id == team.pk
    handing = graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages")[-1].json()
    assert handing["type"] == "text" and handing["to"] == f"+{CUSTOMER}"
