"""The bot's choices on the other messaging channels, through each one's signed webhook: SMS as "Reply 1 for …"
with the number mapped back only while choices are pending (Twilio), LINE quick reply postbacks (validated by
LINE's own SDK models), Messenger quick replies and a WeChat menu message, each pick handing the conversation
over."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from linebot.v3.messaging import ReplyMessageRequest
from linebot.v3.webhook import WebhookParser

from threadline.bot import wording
from threadline.bot.models import SessionState
from threadline.bot.tests.helpers import bot_turns, enable_bot, publish_article, session_of, support_team
from threadline.channels.line.tests.test_line_channel import SECRET as LINE_SECRET
from threadline.channels.line.tests.test_line_channel import fixture as line_fixture
from threadline.channels.line.tests.test_line_channel import line_api  # noqa: F401 - the LINE API fixture
from threadline.channels.line.tests.test_line_channel import make_channel as make_line_channel
from threadline.channels.line.tests.test_line_channel import post as line_post
from threadline.channels.messenger.tests.test_messenger_channel import PAGE, meta  # noqa: F401 - the Graph fixture
from threadline.channels.messenger.tests.test_messenger_channel import fixture as meta_fixture
from threadline.channels.messenger.tests.test_messenger_channel import make_channel as make_meta_channel
from threadline.channels.sms.tests.helpers import (
    ACCOUNT_SID,
    PUBLIC_URL,
    fixture,
    make_twilio_channel,
    twilio_post,
)
from threadline.channels.wechat.tests.test_wechat_channel import OPENID, signed_query, wx  # noqa: F401 - the API fixture
from threadline.channels.wechat.tests.test_wechat_channel import fixture as wechat_fixture
from threadline.channels.wechat.tests.test_wechat_channel import make_channel as make_wechat_channel
from threadline.channels.wechat.tests.test_wechat_channel import post as wechat_post
from threadline.channels.whatsapp.tests.helpers import meta_post
from threadline.conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db
QUESTION = "When will my order arrive?"


@pytest.fixture(autouse=True)
def _articles(admin, run_jobs):
    publish_article(admin, "en", "When will my order arrive", "Orders ship within 3 to 5 business days.")
    run_jobs()
    enable_bot(admin)


def sms(n: int, text: str) -> str:
    form = dict(item.split("=", 1) for item in fixture("inbound_text.form").split("&"))
    form.update(SmsMessageSid=f"SM{n:032d}", MessageSid=f"SM{n:032d}", SmsSid=f"SM{n:032d}")
    form.pop("Body")
    return "&".join(f"{k}={v}" for k, v in form.items()) + "&" + urlencode({"Body": text})


def test_sms_numbered_choices_and_the_number_back(client, admin, run_jobs, settings):
    from threadline.channels.fake_provider import FakeProvider

    settings.PUBLIC_URL = PUBLIC_URL
    provider = FakeProvider().start()
    try:
        provider.route("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", 201,
                       fixture("send_response.json", sid="b" * 32).encode())
        channel = make_twilio_channel(admin, api_base_url=provider.url)
        team = support_team(admin)
        assert twilio_post(client, channel, sms(1, QUESTION)).status_code in (200, 202, 204)
        run_jobs()
        conversation = Conversation.objects.get()
        [answer] = bot_turns(conversation)
        body = provider.calls("POST")[0].form()["Body"][0]
        assert body.startswith(answer.text)
        assert body.endswith("Reply 1 for Yes, that helped, 2 for No, 3 for Talk to a person.")
        twilio_post(client, channel, sms(2, "2"))  # "No"
        run_jobs()
        assert bot_turns(conversation)[-1].text == wording.sorry()
        assert provider.calls("POST")[-1].form()["Body"][0].endswith("Reply 1 for Talk to a person.")
        twilio_post(client, channel, sms(3, "1"))  # now 1 is "talk to a person"
        run_jobs()
        session = session_of(conversation)
        assert (session.state, session.reason) == (SessionState.HANDED_OVER, "asked")
        conversation.refresh_from_db()
        assert conversation.team_id == team.pk
        assert "Reply" not in provider.calls("POST")[-1].form()["Body"][0]  # the hand-off offers nothing
    finally:
        provider.stop()


def test_line_quick_reply_postbacks_and_the_postback_back(client, admin, run_jobs, line_api):  # noqa: F811
    channel = make_line_channel(admin, line_api.url)
    support_team(admin)
    doc = json.loads(line_fixture("text.json"))
    doc["events"][0]["message"]["text"] = QUESTION
    line_post(client, channel, json.dumps(doc).encode())
    run_jobs()
    conversation = Conversation.objects.get()
    [answer] = bot_turns(conversation)
    request = line_api.calls("POST", "/v2/bot/message/reply")[0].json()
    parsed = ReplyMessageRequest.from_dict(request)  # LINE's SDK model of the documented request
    actions = [getattr(i.action, "actual_instance", i.action) for i in parsed.messages[0].quick_reply.items]
    assert [(a.type, a.data, a.label) for a in actions] == [
        ("postback", c["id"], c["label"][:20]) for c in answer.metadata["choices"]]
    assert all(len(a.label) <= 20 for a in actions)
    event = json.loads(line_fixture("postback.json"))
    event["events"][0]["postback"]["data"] = wording.HANDOFF
    body = json.dumps(event).encode()
    from threadline.channels.line.tests.test_line_channel import signature

    WebhookParser(LINE_SECRET).parse(body.decode(), signature(LINE_SECRET, body))  # a real postback event
    line_post(client, channel, body)
    run_jobs()
    pick = Message.objects.get(provider_message_id__startswith="postback:")
    assert pick.metadata["choice"] == wording.HANDOFF
    assert session_of(conversation).reason == "asked"


def test_messenger_quick_replies_and_the_payload_back(client, admin, run_jobs, meta):  # noqa: F811
    channel = make_meta_channel(admin, "messenger", meta.url)
    support_team(admin)
    text = json.loads(meta_fixture("text.json"))
    text["entry"][0]["messaging"][0]["message"]["text"] = QUESTION
    assert meta_post(client, channel, json.dumps(text).encode()).status_code == 202
    run_jobs()
    conversation = Conversation.objects.get()
    [answer] = bot_turns(conversation)
    sent = meta.calls("POST", f"/{PAGE}/messages")[0].json()
    assert sent["messaging_type"] == "RESPONSE" and sent["message"]["text"] == answer.text
    assert sent["message"]["quick_replies"] == [
        {"content_type": "text", "title": c["label"][:20], "payload": c["id"]} for c in answer.metadata["choices"]]
    reply = json.loads(meta_fixture("quick_reply.json"))
    reply["entry"][0]["messaging"][0]["message"].update(text="Talk to a person",
                                                        quick_reply={"payload": wording.HANDOFF})
    assert meta_post(client, channel, json.dumps(reply).encode()).status_code == 202
    run_jobs()
    assert Message.objects.get(text="Talk to a person").metadata["choice"] == wording.HANDOFF
    assert session_of(conversation).state == SessionState.HANDED_OVER


def test_wechat_menu_message_and_the_menu_pick_back(client, admin, run_jobs, wx):  # noqa: F811
    channel = make_wechat_channel(admin, wx.url)
    support_team(admin)
    question = wechat_fixture("text.xml").replace("你好，我的订单还没到".encode(), QUESTION.encode())
    assert wechat_post(client, channel, question, signed_query()).status_code in (200, 202)
    run_jobs()
    conversation = Conversation.objects.get()
    [answer] = bot_turns(conversation)
    sent = wx.calls("POST", "/cgi-bin/message/custom/send")[-1].json()
    assert sent == {"touser": OPENID, "msgtype": "msgmenu", "msgmenu": {
        "head_content": answer.text, "tail_content": "",
        "list": [{"id": c["id"], "content": c["label"]} for c in answer.metadata["choices"]]}}
    pick = (wechat_fixture("text.xml").replace("你好，我的订单还没到".encode(), b"Talk to a person")
            .replace(b"<MsgId>23953183728391234</MsgId>",
                     f"<MsgId>23953183728391299</MsgId><bizmsgmenuid>{wording.HANDOFF}</bizmsgmenuid>".encode()))
    wechat_post(client, channel, pick, signed_query())
    run_jobs()
    assert Message.objects.get(provider_message_id="23953183728391299").metadata["choice"] == wording.HANDOFF
    assert session_of(conversation).reason == "asked"
