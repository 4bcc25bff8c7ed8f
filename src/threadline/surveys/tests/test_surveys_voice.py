"""Voice: after a call with an agent ends (Twilio's <Enqueue> action reports `bridged` while the caller is still
on the line), the survey is asked with DTMF; the digits Twilio posts back become the score on the call's
conversation. No survey when none is on for voice, within the throttle, or for a queue the caller left."""

from __future__ import annotations

import pytest
from tests.test_ivr_menu import _public_url, caller, team  # noqa: F401 - the IVR fixtures

from threadline.channels.sms.tests.helpers import PUBLIC_URL
from threadline.channels.voice.tests.helpers import fixture, query, verbs
from threadline.conversations.models import Conversation, ConversationEvent
from threadline.surveys.models import SurveyRequest, SurveyResponse
from threadline.surveys.tests.helpers import enable_survey

pytestmark = pytest.mark.django_db


def to_the_queue(caller):  # noqa: F811
    menu = caller.press(caller.start().find("Gather").get("action"), "1").find("Gather")
    return caller.press(menu.get("action"), "1").find("Enqueue").get("action")


def test_csat_by_dtmf_after_the_agent_hangs_up(admin, caller, run_jobs):  # noqa: F811
    enable_survey(admin, "csat")
    queue_done = to_the_queue(caller)
    root = caller.twiml(queue_done, fixture("enqueue_result.form", result="bridged"))
    assert verbs(root) == ["Gather", "Say", "Hangup"]
    gather = root.find("Gather")
    assert (gather.get("numDigits"), gather.get("finishOnKey")) == ("1", "#")
    assert query(gather.get("action")) == {"step": "survey", "lang": "en-US", "survey": "csat"}
    asked = gather.find("Say")
    assert asked.get("language") == "en-US" and asked.text.startswith("How satisfied are you")
    assert asked.text.endswith("Enter a number from 1 to 5 on your keypad, then press the pound key.")

    wrong = caller.press(gather.get("action"), "9")  # not on the scale
    assert verbs(wrong) == ["Say", "Hangup"] and wrong.find("Say").text == "Sorry, that is not a score. Goodbye."
    thanked = caller.press(gather.get("action"), "4")
    assert verbs(thanked) == ["Say", "Hangup"] and thanked.find("Say").text == "Thank you for your feedback."
    caller.post(f"{PUBLIC_URL}/hooks/voice/{caller.channel.pk}/?step=status",
                fixture("call_status.form", status="completed", duration="184"))
    run_jobs()
    conversation = Conversation.objects.get()
    response = SurveyResponse.objects.get()
    assert (response.kind, response.score, response.conversation_id, response.channel_id) == (
        "csat", 4, conversation.pk, caller.channel.pk)
    assert SurveyRequest.objects.get().trigger == "call"
    kinds = [e.kind for e in ConversationEvent.objects.filter(conversation=conversation).order_by("id")]
    assert "call_survey" in kinds and kinds.index("survey_sent") < kinds.index("survey_answered")

    again = caller.twiml(queue_done, fixture("enqueue_result.form", result="bridged"))
    assert verbs(again) == ["Hangup"]  # within the throttle: no second survey


def test_nps_takes_two_digits_and_no_survey_when_the_caller_left_the_queue(admin, caller, run_jobs):  # noqa: F811
    enable_survey(admin, "nps", channel_kinds=["voice"])
    queue_done = to_the_queue(caller)
    assert verbs(caller.twiml(queue_done, fixture("enqueue_result.form", result="hangup"))) == ["Hangup"]
    gather = caller.twiml(queue_done, fixture("enqueue_result.form", result="bridged")).find("Gather")
    assert gather.get("numDigits") == "2" and query(gather.get("action"))["survey"] == "nps"
    caller.press(gather.get("action"), "10")
    run_jobs()
    assert SurveyResponse.objects.get().score == 10


def test_no_voice_survey_when_the_survey_leaves_voice_out(admin, caller, run_jobs):  # noqa: F811
    enable_survey(admin, "csat", channel_kinds=["sms"])
    root = caller.twiml(to_the_queue(caller), fixture("enqueue_result.form", result="bridged"))
    assert verbs(root) == ["Hangup"]
