"""Survey round trips on the remaining channel kinds through their real formats: Instagram (quick replies, the
quick_reply payload back), WeChat (a msgmenu, the text with its bizmsgmenuid back), WhatsApp through Twilio (a
"reply with a number" text, the number back from a whatsapp: sender), the portal (rating links in the reply's
notification mail and on the portal message) and the API channel (its outbound JSON carries the choices when
the survey names the API channel; metadata.choice comes back)."""

from __future__ import annotations

import json
import re

import pytest

from threadline.channels.messenger.tests.test_messenger_channel import IG, meta  # noqa: F401 - the Graph fixture
from threadline.channels.messenger.tests.test_messenger_channel import fixture as meta_fixture
from threadline.channels.messenger.tests.test_messenger_channel import make_channel as make_meta_channel
from threadline.channels.portal.tests.test_portal_channel import submit_request
from threadline.channels.sms.tests.helpers import make_twilio_channel, twilio_post
from threadline.channels.wechat.tests.test_wechat_channel import OPENID, signed_query, wx  # noqa: F401
from threadline.channels.wechat.tests.test_wechat_channel import fixture as wechat_fixture
from threadline.channels.wechat.tests.test_wechat_channel import make_channel as make_wechat_channel
from threadline.channels.wechat.tests.test_wechat_channel import post as wechat_post
from threadline.channels.whatsapp.tests.helpers import meta_post
from threadline.conversations.models import Conversation, Message, Status
from threadline.conversations.tests.builders import inbound_conversation, post_inbound
from threadline.surveys.models import SurveyRequest, SurveyResponse
from threadline.surveys.tests.helpers import enable_survey, sms, solve
from threadline.testing.factories import make_api_channel
from threadline.testing.mailbox import wait_for_mail

pytestmark = pytest.mark.django_db


def test_instagram_quick_replies_and_the_quick_reply_back(client, admin, run_jobs, meta):  # noqa: F811
    channel = make_meta_channel(admin, "instagram", meta.url)
    enable_survey(admin, "csat")
    assert meta_post(client, channel, meta_fixture("instagram_text.json")).status_code == 202
    run_jobs()
    solve(admin, Conversation.objects.get())
    run_jobs()
    request = SurveyRequest.objects.get()
    sent = meta.calls("POST", f"/{IG}/messages")[-1].json()
    assert [(q["title"], q["payload"]) for q in sent["message"]["quick_replies"]] == [
        (str(n), f"survey:{request.pk}:{n}") for n in range(1, 6)]
    reply = json.loads(meta_fixture("instagram_text.json"))
    reply["entry"][0]["messaging"][0]["message"].update(
        mid="aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE1", text="4",
        quick_reply={"payload": f"survey:{request.pk}:4"})
    assert meta_post(client, channel, json.dumps(reply).encode()).status_code == 202
    run_jobs()
    response = SurveyResponse.objects.get()
    assert (response.score, response.channel_id, Conversation.objects.get().status) == (4, channel.pk, Status.SOLVED)


def test_wechat_menu_message_and_the_bizmsgmenuid_back(client, admin, run_jobs, wx):  # noqa: F811
    channel = make_wechat_channel(admin, wx.url)
    enable_survey(admin, "ces")
    wechat_post(client, channel, wechat_fixture("text.xml"), signed_query())
    run_jobs()
    solve(admin, Conversation.objects.get())
    run_jobs()
    request = SurveyRequest.objects.get()
    sent = wx.calls("POST", "/cgi-bin/message/custom/send")[-1].json()
    assert sent["msgtype"] == "msgmenu" and sent["touser"] == OPENID
    assert [(i["id"], i["content"]) for i in sent["msgmenu"]["list"]] == [
        (f"survey:{request.pk}:{n}", str(n)) for n in range(1, 8)]
    tap = wechat_fixture("text.xml").decode().replace("你好，我的订单还没到", "2").replace(
        "<MsgId>23953183728391234</MsgId>",
        f"<MsgId>23953183728391235</MsgId><bizmsgmenuid>survey:{request.pk}:2</bizmsgmenuid>")
    wechat_post(client, channel, tap.encode(), signed_query())
    run_jobs()
    assert (SurveyResponse.objects.get().score, Conversation.objects.get().status) == (2, Status.SOLVED)


def test_whatsapp_through_twilio_asks_for_a_number_and_the_number_answers(client, admin, run_jobs, twilio):
    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    enable_survey(admin, "csat")
    sender = "whatsapp:+14155552671"
    twilio_post(client, channel, sms(1, "Is my parcel on its way?", sender, form_name="inbound_whatsapp.form"))
    run_jobs()
    conversation = Conversation.objects.get()
    assert Message.objects.get().identity.kind == "whatsapp"
    solve(admin, conversation)
    run_jobs()
    form = twilio.calls("POST")[-1].form()
    assert form["To"] == [sender] and form["From"] == ["whatsapp:+14155238886"]
    assert form["Body"][0].endswith("Reply with a number from 1 to 5.")
    twilio_post(client, channel, sms(2, "5", sender, form_name="inbound_whatsapp.form"))
    run_jobs()
    response = SurveyResponse.objects.get()
    assert (response.kind, response.score, response.channel_id) == ("csat", 5, channel.pk)
    assert Conversation.objects.get().status == Status.SOLVED


def test_portal_rating_links_in_the_notification_and_the_portal_message(client, admin, run_jobs, system_mail,
                                                                        settings):
    settings.PUBLIC_URL = "https://help.example.com"
    enable_survey(admin, "csat")
    submit_request(admin.workspace)
    run_jobs()
    conversation = Conversation.objects.get()
    solve(admin, conversation)
    run_jobs()
    request = SurveyRequest.objects.get()
    assert request.channel.kind == "portal" and not request.by_text
    assert "https://help.example.com/surveys/rate/" in request.message.text  # shown in the portal too
    mail = wait_for_mail(system_mail)[-1].message.get_body(preferencelist=("plain",)).get_content()
    links = dict(re.findall(r"^(\d): (https://help\.example\.com/surveys/rate/\S+/)\r?$", mail, re.M))
    assert sorted(links, key=int) == ["1", "2", "3", "4", "5"]
    path = links["3"].removeprefix("https://help.example.com")
    assert client.get(path).status_code == 200 and not SurveyResponse.objects.exists()
    assert client.post(path).status_code == 200
    response = SurveyResponse.objects.get()
    assert (response.score, response.conversation_id, response.channel_id) == (3, conversation.pk, request.channel_id)
    conversation.refresh_from_db()
    assert conversation.status == Status.SOLVED


def test_api_channel_gets_the_choices_only_when_the_survey_names_it(client, admin, run_jobs, receiver):
    channel = make_api_channel(admin, webhook_url=receiver.url)
    enable_survey(admin, "csat")  # every channel kind that can carry it: not the API channel
    conversation = inbound_conversation(client, channel, run_jobs, "m-1", "dana@example.com")
    solve(admin, conversation)
    run_jobs()
    assert not SurveyRequest.objects.exists()
    enable_survey(admin, "nps", channel_kinds=["api"])
    enable_survey(admin, "csat", enabled=False)
    conversation = inbound_conversation(client, channel, run_jobs, "m-2", "dana@example.com", "One more thing")
    solve(admin, conversation)
    run_jobs()
    request = SurveyRequest.objects.get()
    body = json.loads(receiver.wait_for(1)[-1].body)
    assert body["type"] == "message.outbound" and body["conversation_id"] == conversation.pk
    assert body["choices"] == [{"id": f"survey:{request.pk}:{n}", "label": str(n)} for n in range(0, 11)]
    post_inbound(client, channel, "m-3", "dana@example.com", "9",
                 metadata={"choice": f"survey:{request.pk}:9"})
    run_jobs()
    assert (SurveyResponse.objects.get().score, Conversation.objects.get().status) == (9, Status.SOLVED)
