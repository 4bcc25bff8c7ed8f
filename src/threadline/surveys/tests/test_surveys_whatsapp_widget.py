"""CSAT on WhatsApp as an interactive list (five scores: more than three reply buttons) answered with a
`list_reply`, NPS there as "reply with a number" (eleven scores: more than ten rows), and CSAT in the widget as
buttons answered through the socket."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from threadline.bot.tests.test_bot_whatsapp import graph, inbound  # noqa: F401 - Meta's Graph API fixture
from threadline.channels.webchat.testkit import Widget, make_webchat_channel, socket_path
from threadline.channels.whatsapp.tests.helpers import (
    PHONE_NUMBER_ID,
    make_whatsapp_channel,
    meta_post,
)
from threadline.conversations.models import Conversation, Status
from threadline.realtime.testkit import (  # noqa: F401 - the realtime fixture
    WebsocketCommunicator,
    application,
    in_worker_thread,
    realtime,
    receive_until,
)
from threadline.surveys.models import SurveyRequest, SurveyResponse
from threadline.surveys.tests.helpers import enable_survey, solve


@pytest.mark.django_db
def test_whatsapp_csat_as_a_list_and_the_list_reply_back(client, admin, run_jobs, graph):  # noqa: F811
    channel = make_whatsapp_channel(admin, graph.url)
    enable_survey(admin, "csat")
    assert meta_post(client, channel, inbound("text.json", 1, text={"body": "Hi, wrong size"})).status_code == 202
    run_jobs()
    conversation = Conversation.objects.get()
    solve(admin, conversation)
    run_jobs()
    request = SurveyRequest.objects.get()
    sent = graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages")[-1].json()
    assert sent["type"] == "interactive" and sent["interactive"]["type"] == "list"
    rows = sent["interactive"]["action"]["sections"][0]["rows"]
    assert [(r["id"], r["title"]) for r in rows] == [(f"survey:{request.pk}:{n}", str(n)) for n in range(1, 6)]
    tap = inbound("interactive_list_reply.json", 2, context={"from": "15550783881", "id": "wamid.bot-out"},
                  interactive={"type": "list_reply", "list_reply": {"id": f"survey:{request.pk}:2", "title": "2"}})
    assert meta_post(client, channel, tap).status_code == 202
    run_jobs()
    response = SurveyResponse.objects.get()
    assert (response.score, response.conversation_id) == (2, conversation.pk)
    conversation.refresh_from_db()
    assert conversation.status == Status.SOLVED


@pytest.mark.django_db
def test_whatsapp_nps_falls_back_to_a_number(client, admin, run_jobs, graph):  # noqa: F811
    channel = make_whatsapp_channel(admin, graph.url)
    enable_survey(admin, "nps")
    meta_post(client, channel, inbound("text.json", 1, text={"body": "Thanks for the refund"}))
    run_jobs()
    solve(admin, Conversation.objects.get())
    run_jobs()
    sent = graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages")[-1].json()
    assert sent["type"] == "text" and sent["text"]["body"].endswith("Reply with a number from 0 to 10.")
    meta_post(client, channel, inbound("text.json", 2, text={"body": "10"}))
    run_jobs()
    assert SurveyResponse.objects.get().score == 10
    assert Conversation.objects.get().status == Status.SOLVED


@pytest.mark.usefixtures("realtime")
def test_widget_csat_buttons_and_the_socket_choice_back(transactional_db, admin, client):
    from threadline.bot.tests.helpers import work

    channel = make_webchat_channel(admin)
    enable_survey(admin, "csat")
    token = Widget(client, channel).start().token

    async def scenario():
        tab = WebsocketCommunicator(application(), socket_path(channel, token, "en"))
        assert (await tab.connect())[0]
        await receive_until(tab, lambda m: m["type"] == "welcome")
        await tab.send_json_to({"type": "message", "client_id": "m-1", "text": "Where is my order?"})
        await receive_until(tab, lambda m: m["type"] == "ack" and m["client_id"] == "m-1")
        await in_worker_thread(work)
        await in_worker_thread(lambda: solve(admin, Conversation.objects.get()))
        await in_worker_thread(work)
        survey = await receive_until(tab, lambda m: m["type"] == "message" and m["message"].get("choices"))
        offered = survey["message"]["choices"]
        assert [c["label"] for c in offered] == ["1", "2", "3", "4", "5"]
        await tab.send_json_to({"type": "message", "client_id": "m-2", "text": offered[4]["label"],
                                "choice": offered[4]["id"]})
        await receive_until(tab, lambda m: m["type"] == "ack" and m["client_id"] == "m-2")
        await in_worker_thread(work)
        await tab.disconnect()

    async_to_sync(scenario)()
    response = SurveyResponse.objects.get()
    assert (response.score, response.channel_id) == (5, channel.pk)
    assert Conversation.objects.get().status == Status.SOLVED
