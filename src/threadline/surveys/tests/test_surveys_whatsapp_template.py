"""WhatsApp outside its 24-hour window: the survey goes as the approved template the survey names (synced from
the WhatsApp Business Account), its quick-reply buttons carrying the scores; a press comes back as a `button`
message. Without an approved template nothing is sent and the timeline says why."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.db import transaction

from threadline.bot.tests.test_bot_whatsapp import graph, inbound  # noqa: F401 - Meta's Graph API fixture
from threadline.channels.registry import adapter_for
from threadline.channels.whatsapp.tests.helpers import (
    PHONE_NUMBER_ID,
    WABA_ID,
    make_whatsapp_channel,
    meta_post,
)
from threadline.conversations.actions import do_update_conversation
from threadline.conversations.models import Conversation, ConversationEvent, Status
from threadline.core.time import now
from threadline.surveys.models import SurveyRequest, SurveyResponse
from threadline.surveys.tests.helpers import enable_survey, solve

pytestmark = pytest.mark.django_db

BUTTONS = {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Great"},
                                         {"type": "QUICK_REPLY", "text": "Okay"},
                                         {"type": "QUICK_REPLY", "text": "Bad"}]}
TEMPLATES = {"data": [
    {"name": "csat_check", "language": "en_US", "status": "APPROVED", "category": "UTILITY", "id": "1",
     "components": [{"type": "BODY", "text": "How did we do with your request?"}, BUTTONS]},
    {"name": "csat_new", "language": "en_US", "status": "PENDING", "category": "UTILITY", "id": "2",
     "components": [{"type": "BODY", "text": "Rate us"}, BUTTONS]},
], "paging": {"cursors": {"before": "A", "after": "B"}}}


def reopen_and_solve(admin, conversation):
    with transaction.atomic():
        do_update_conversation(admin, Conversation.objects.get(pk=conversation.pk), status="open")
    solve(admin, conversation)


def test_outside_the_window_an_approved_template_with_quick_replies_or_nothing(client, admin, run_jobs,
                                                                                graph):  # noqa: F811
    graph.route("GET", f"/{WABA_ID}/message_templates", 200, json.dumps(TEMPLATES).encode())
    channel = make_whatsapp_channel(admin, graph.url)
    with transaction.atomic():
        adapter_for("whatsapp").sync_templates(channel)
    enable_survey(admin, "csat")
    meta_post(client, channel, inbound("text.json", 1, text={"body": "Where is my order?"}))
    run_jobs()
    conversation = Conversation.objects.get()
    sent_before = len(graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages"))
    with time_machine.travel(now() + dt.timedelta(hours=25), tick=False):
        solve(admin, conversation)
        run_jobs()
        assert not SurveyRequest.objects.exists()
        refused = ConversationEvent.objects.get(kind="survey_not_sent")
        assert refused.data["reason"] == "no_approved_template" and refused.data["survey_kind"] == "csat"

        enable_survey(admin, "csat", whatsapp_template={"name": "csat_new", "scores": [5, 3, 1]})
        reopen_and_solve(admin, conversation)
        run_jobs()
        assert not SurveyRequest.objects.exists()  # pending at WhatsApp: not approved yet
        assert len(graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages")) == sent_before

        enable_survey(admin, "csat", whatsapp_template={"name": "csat_check", "language": "en_US",
                                                        "scores": [5, 3, 1]})
        reopen_and_solve(admin, conversation)
        run_jobs()
        request = SurveyRequest.objects.get()
        body = graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages")[-1].json()
        assert body["type"] == "template"
        assert (body["template"]["name"], body["template"]["language"]["code"]) == ("csat_check", "en_US")
        assert body["template"]["components"] == [
            {"type": "button", "sub_type": "quick_reply", "index": str(i),
             "parameters": [{"type": "payload", "payload": f"survey:{request.pk}:{score}"}]}
            for i, score in enumerate([5, 3, 1])]
        assert request.message.text.startswith("How did we do with your request?")
        press = inbound("button.json", 2, button={"payload": f"survey:{request.pk}:3", "text": "Okay"})
        assert meta_post(client, channel, press).status_code == 202
        run_jobs()
    response = SurveyResponse.objects.get()
    assert (response.score, response.conversation_id) == (3, conversation.pk)
    assert Conversation.objects.get().status == Status.SOLVED


def test_template_scores_are_checked_when_saved(admin):
    from threadline.core.errors import ValidationFailed

    for scores in ([], [6], [5, 5], ["x"]):
        with pytest.raises(ValidationFailed):
            enable_survey(admin, "csat", whatsapp_template={"name": "csat_check", "scores": scores})
    assert enable_survey(admin, "csat", whatsapp_template={"name": ""}).whatsapp_template == {}
