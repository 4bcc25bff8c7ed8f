"""Survey round trips through real webhook formats: Telegram (inline keyboard, callback_query back), SMS
through Twilio (a "reply with a number" text, a bare number back); the answer never reopens the conversation
nor starts the bot; the throttle and a STOP keep a survey from going out."""

from __future__ import annotations

import pytest
from telegram import Bot, Update

from threadline.bot.models import BotSession
from threadline.bot.tests.helpers import enable_bot
from threadline.bot.tests.test_bot_telegram import bot_api, press, update  # noqa: F401 - the Bot API fixture
from threadline.channels.sms.tests.helpers import make_twilio_channel, twilio_post
from threadline.channels.telegram.tests.test_telegram_channel import TOKEN, make_channel, post
from threadline.conversations.models import Conversation, ConversationEvent, Status
from threadline.events.models import OutboxEvent
from threadline.surveys.models import SurveyRequest, SurveyResponse
from threadline.surveys.tests.helpers import enable_survey, sms, solve
from threadline.web.tests.admin_helpers import signed_in

pytestmark = pytest.mark.django_db


def test_telegram_csat_inline_keyboard_and_the_press_back(client, admin, run_jobs, bot_api):  # noqa: F811
    channel = make_channel(admin, bot_api.url)
    enable_survey(admin, "csat")
    enable_bot(admin)  # a bot is on: the answer must not start it
    assert post(client, channel, update(1, "My parcel is late")).status_code == 202
    run_jobs()
    conversation = Conversation.objects.get()
    BotSession.objects.filter(conversation=conversation).delete()
    solve(admin, conversation)
    run_jobs()
    request = SurveyRequest.objects.get()
    sent = bot_api.calls("POST", f"/bot{TOKEN}/sendMessage")[-1].json()
    keyboard = sent["reply_markup"]
    assert [row[0]["text"] for row in keyboard["inline_keyboard"]] == ["1", "2", "3", "4", "5"]
    assert keyboard["inline_keyboard"][3][0]["callback_data"] == f"survey:{request.pk}:4"
    pressed = press(1, f"survey:{request.pk}:4", keyboard)
    assert Update.de_json(pressed, Bot(TOKEN)).callback_query.data == f"survey:{request.pk}:4"
    assert post(client, channel, pressed).status_code == 202
    run_jobs()
    response = SurveyResponse.objects.get()
    assert (response.kind, response.score, response.conversation_id, response.channel_id) == (
        "csat", 4, conversation.pk, channel.pk)
    conversation.refresh_from_db()
    assert conversation.status == Status.SOLVED and Conversation.objects.count() == 1
    assert not BotSession.objects.filter(conversation=conversation).exists()
    assert ConversationEvent.objects.filter(conversation=conversation, kind="survey_answered",
                                            data__score=4).exists()
    [event] = OutboxEvent.objects.filter(type="survey.answered")
    assert (event.payload["score"], event.payload["kind"]) == (4, "csat")
    assert post(client, channel, press(2, f"survey:{request.pk}:1", keyboard)).status_code == 202
    run_jobs()
    assert SurveyResponse.objects.get().score == 4  # answered once
    signed_in(client, admin)
    page = client.get(f"/app/c/{conversation.pk}/").content.decode()
    assert "The CSAT survey was sent" in page and "The customer answered the CSAT survey: 4" in page


def test_sms_nps_asks_for_a_number_and_the_bare_number_answers(client, admin, run_jobs, twilio):
    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    enable_survey(admin, "nps")
    twilio_post(client, channel, sms(1, "Where is my refund?"))
    run_jobs()
    conversation = Conversation.objects.get()
    solve(admin, conversation)
    run_jobs()
    body = twilio.calls("POST")[-1].form()["Body"][0]
    assert body.endswith("Reply with a number from 0 to 10.")
    twilio_post(client, channel, sms(2, "11"))  # out of scale: an ordinary message (reopens)
    run_jobs()
    assert not SurveyResponse.objects.exists()
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    solve(admin, conversation)
    run_jobs()
    assert SurveyRequest.objects.count() == 1  # still pending: no second survey
    twilio_post(client, channel, sms(3, " 9 "))
    run_jobs()
    response = SurveyResponse.objects.get()
    assert (response.kind, response.score) == ("nps", 9)
    conversation.refresh_from_db()
    assert conversation.status == Status.SOLVED
    twilio_post(client, channel, sms(4, "7"))  # no survey pending any more: a customer message
    run_jobs()
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN and SurveyResponse.objects.count() == 1


def test_throttle_and_stop_keep_the_survey_back(client, admin, run_jobs, twilio):
    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    enable_survey(admin, "csat", throttle_days=30)
    twilio_post(client, channel, sms(1, "Hello"))
    run_jobs()
    conversation = Conversation.objects.get()
    solve(admin, conversation)
    run_jobs()
    twilio_post(client, channel, sms(2, "5"))
    run_jobs()
    assert SurveyResponse.objects.get().score == 5
    twilio_post(client, channel, sms(3, "Another question"))
    run_jobs()
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    solve(admin, conversation)
    run_jobs()
    assert SurveyRequest.objects.count() == 1  # within 30 days of the last one
    enable_survey(admin, "csat", throttle_days=0)
    twilio_post(client, channel, sms(4, "STOP"))
    run_jobs()
    solve(admin, conversation)
    run_jobs()
    assert SurveyRequest.objects.count() == 1  # opted out: nothing sent


def test_a_low_score_triggers_an_automation(client, admin, run_jobs, twilio):
    from django.db import transaction

    from threadline.automations.actions import do_save_automation

    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    enable_survey(admin, "csat")
    with transaction.atomic():
        do_save_automation(admin.workspace, None, name="Low CSAT", kind="event", events=["survey.answered"],
                           conditions={"all": [{"field": "survey.kind", "op": "eq", "value": "csat"},
                                               {"field": "survey.score", "op": "lte", "value": 2}]},
                           actions=[{"type": "set_status", "value": "open"}, {"type": "add_tags", "tags": ["low-csat"]}])
    for n, (sender, score) in enumerate((("+14155550001", "4"), ("+14155550002", "2"))):
        twilio_post(client, channel, sms(10 * n, "Hello", sender))
        run_jobs()
        conversation = Conversation.objects.latest("id")
        solve(admin, conversation)
        run_jobs()
        twilio_post(client, channel, sms(10 * n + 1, score, sender))
        run_jobs()
    happy, unhappy = Conversation.objects.order_by("id")
    assert happy.status == Status.SOLVED and not happy.tags.exists()
    assert unhappy.status == Status.OPEN and list(unhappy.tags.values_list("name", flat=True)) == ["low-csat"]


def test_no_survey_on_the_api_channel_nor_on_a_kind_left_out(client, admin, run_jobs, twilio):
    from threadline.conversations.tests.builders import inbound_conversation
    from threadline.testing.factories import make_api_channel

    enable_survey(admin, "csat", channel_kinds=["whatsapp"])
    sms_channel = make_twilio_channel(admin, api_base_url=twilio.url)
    twilio_post(client, sms_channel, sms(1, "Hello"))
    run_jobs()
    solve(admin, Conversation.objects.get())
    run_jobs()
    assert not SurveyRequest.objects.exists()  # SMS is not among the survey's channels
    enable_survey(admin, "csat")
    api_conversation = inbound_conversation(client, make_api_channel(admin), run_jobs, "m-1", "dana@example.com")
    solve(admin, api_conversation)
    run_jobs()
    assert not SurveyRequest.objects.exists()  # the API channel cannot offer scores
