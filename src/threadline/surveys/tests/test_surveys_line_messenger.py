"""CSAT on LINE (quick reply postbacks, the postback event back) and Messenger (quick replies, the payload back)
through their signed webhooks; the answer lands on the solved conversation without reopening it."""

from __future__ import annotations

import json

import pytest

from threadline.channels.line.tests.test_line_channel import fixture as line_fixture
from threadline.channels.line.tests.test_line_channel import line_api  # noqa: F401 - the LINE API fixture
from threadline.channels.line.tests.test_line_channel import make_channel as make_line_channel
from threadline.channels.line.tests.test_line_channel import post as line_post
from threadline.channels.messenger.tests.test_messenger_channel import PAGE, meta  # noqa: F401 - the Graph fixture
from threadline.channels.messenger.tests.test_messenger_channel import fixture as meta_fixture
from threadline.channels.messenger.tests.test_messenger_channel import make_channel as make_meta_channel
from threadline.channels.whatsapp.tests.helpers import meta_post
from threadline.conversations.models import Conversation, Status
from threadline.surveys.models import SurveyRequest, SurveyResponse
from threadline.surveys.tests.helpers import enable_survey, solve

pytestmark = pytest.mark.django_db


def test_line_quick_reply_postbacks_and_the_postback_back(client, admin, run_jobs, line_api):  # noqa: F811
    channel = make_line_channel(admin, line_api.url)
    enable_survey(admin, "csat")
    line_post(client, channel, line_fixture("text.json"))
    run_jobs()
    conversation = Conversation.objects.get()
    solve(admin, conversation)
    run_jobs()
    request = SurveyRequest.objects.get()
    sent = line_api.calls("POST", "/v2/bot/message/reply")[-1].json()
    items = sent["messages"][0]["quickReply"]["items"]
    assert [(i["action"]["type"], i["action"]["data"]) for i in items] == [
        ("postback", f"survey:{request.pk}:{n}") for n in range(1, 6)]
    event = json.loads(line_fixture("postback.json"))
    event["events"][0]["postback"]["data"] = f"survey:{request.pk}:3"
    line_post(client, channel, json.dumps(event).encode())
    run_jobs()
    assert (SurveyResponse.objects.get().score, Conversation.objects.get().status) == (3, Status.SOLVED)


def test_messenger_quick_replies_and_the_payload_back(client, admin, run_jobs, meta):  # noqa: F811
    channel = make_meta_channel(admin, "messenger", meta.url)
    enable_survey(admin, "ces")
    assert meta_post(client, channel, meta_fixture("text.json")).status_code == 202
    run_jobs()
    solve(admin, Conversation.objects.get())
    run_jobs()
    request = SurveyRequest.objects.get()
    sent = meta.calls("POST", f"/{PAGE}/messages")[-1].json()
    assert [q["payload"] for q in sent["message"]["quick_replies"]] == [
        f"survey:{request.pk}:{n}" for n in range(1, 8)]
    reply = json.loads(meta_fixture("quick_reply.json"))
    reply["entry"][0]["messaging"][0]["message"].update(text="7", quick_reply={"payload": f"survey:{request.pk}:7"})
    assert meta_post(client, channel, json.dumps(reply).encode()).status_code == 202
    run_jobs()
    assert (SurveyResponse.objects.get().score, Conversation.objects.get().status) == (7, Status.SOLVED)
