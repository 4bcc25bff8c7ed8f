"""When surveys go: inside the workspace's quiet hours (the contact's time zone, else the workspace's) a survey
waits and the scheduler's task sends it when they end, consent checked again; NPS on its schedule (every N days
to contacts with activity, throttle respected), enqueued by the scheduler like every periodic task."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from threadline.channels.sms.tests.helpers import make_twilio_channel, twilio_post
from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation, ConversationEvent
from threadline.jobs.scheduler import tick
from threadline.surveys.actions import do_save_survey_settings
from threadline.surveys.models import SurveyRequest
from threadline.surveys.quiet_hours import quiet_until
from threadline.surveys.tasks import send_scheduled_nps_task
from threadline.surveys.tests.helpers import enable_survey, sms, solve

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def quiet(admin, start: str, end: str):
    with transaction.atomic():
        return do_save_survey_settings(admin, quiet_start=dt.time.fromisoformat(start),
                                       quiet_end=dt.time.fromisoformat(end))


def test_quiet_hours_span_midnight_in_the_given_zone(admin):
    hours = quiet(admin, "21:00", "08:00")
    at = dt.datetime(2026, 12, 4, 20, 30, tzinfo=UTC)  # 22:30 in Jerusalem, 20:30 in London
    assert quiet_until(hours, "Asia/Jerusalem", at) == dt.datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    assert quiet_until(hours, "Europe/London", at) is None
    assert quiet_until(hours, "Asia/Jerusalem", dt.datetime(2026, 12, 5, 5, 0, tzinfo=UTC)) == dt.datetime(
        2026, 12, 5, 6, 0, tzinfo=UTC)  # 07:00 there: the same night's end
    assert quiet_until(quiet(admin, "12:00", "13:00"), "UTC", at) is None


def test_a_survey_due_in_quiet_hours_waits_for_their_end(client, admin, run_jobs, twilio):
    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    enable_survey(admin, "csat")
    quiet(admin, "21:00", "08:00")
    evening = dt.datetime(2026, 12, 4, 20, 30, tzinfo=UTC)
    with time_machine.travel(evening, tick=False):
        twilio_post(client, channel, sms(1, "Hello"))
        run_jobs()
        Contact.objects.update(time_zone="Asia/Jerusalem")
        solve(admin, Conversation.objects.get())
        run_jobs()
    request = SurveyRequest.objects.get()
    assert request.due_at == dt.datetime(2026, 12, 5, 6, 0, tzinfo=UTC) and request.message is None
    assert ConversationEvent.objects.filter(kind="survey_held").exists()
    sent = len(twilio.calls("POST"))
    with time_machine.travel(dt.datetime(2026, 12, 5, 5, 59, tzinfo=UTC), tick=False):
        tick()
        run_jobs()
    assert len(twilio.calls("POST")) == sent  # still quiet there
    with time_machine.travel(dt.datetime(2026, 12, 5, 6, 1, tzinfo=UTC), tick=False):
        tick()
        run_jobs()
    request.refresh_from_db()
    assert request.message is not None and request.due_at is None
    assert twilio.calls("POST")[-1].form()["Body"][0].endswith("Reply with a number from 1 to 5.")


def test_a_stop_while_the_survey_waits_withdraws_it(client, admin, run_jobs, twilio):
    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    enable_survey(admin, "csat")
    admin.workspace.time_zone = "America/New_York"
    admin.workspace.save(update_fields=["time_zone"])
    quiet(admin, "20:00", "09:00")
    with time_machine.travel(dt.datetime(2026, 12, 5, 3, 0, tzinfo=UTC), tick=False):  # 22:00 in New York
        twilio_post(client, channel, sms(1, "Hello"))
        run_jobs()
        solve(admin, Conversation.objects.get())
        run_jobs()
        assert SurveyRequest.objects.get().due_at == dt.datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
        twilio_post(client, channel, sms(2, "STOP"))
        run_jobs()
    sent = len(twilio.calls("POST"))
    with time_machine.travel(dt.datetime(2026, 12, 5, 14, 1, tzinfo=UTC), tick=False):
        tick()
        run_jobs()
    assert not SurveyRequest.objects.exists() and len(twilio.calls("POST")) == sent
    assert ConversationEvent.objects.get(kind="survey_not_sent").data["reason"] == "opted_out"


def test_nps_on_its_schedule_to_contacts_with_activity(client, admin, run_jobs, twilio):
    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    start = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):  # long ago: no activity within 90 days of December
        twilio_post(client, channel, sms(1, "Old question", "+14155550001"))
        run_jobs()
        solve(admin, Conversation.objects.get())
        run_jobs()
    with time_machine.travel(start + dt.timedelta(days=180), tick=False):
        for n, sender in ((2, "+14155550002"), (3, "+14155550003")):
            twilio_post(client, channel, sms(n, "Recent question", sender))
            run_jobs()
        recent, still_open = Conversation.objects.order_by("id")[1:]
        solve(admin, recent)
        run_jobs()
        enable_survey(admin, "csat", enabled=False)
        enable_survey(admin, "nps", schedule_days=90, throttle_days=30)
        solve(admin, recent)  # a scheduled NPS is not sent when a conversation is solved
        run_jobs()
        assert not SurveyRequest.objects.exists()
        tick()
        run_jobs()
    [request] = SurveyRequest.objects.all()
    assert (request.kind, request.trigger, request.conversation_id) == ("nps", "schedule", recent.pk)
    assert twilio.calls("POST")[-1].form()["To"] == ["+14155550002"]
    assert still_open.status == "new" or still_open.status == "open"
    with time_machine.travel(start + dt.timedelta(days=181), tick=False):
        tick()
        run_jobs()
    assert SurveyRequest.objects.count() == 1  # once per 90 days


def test_only_nps_has_a_schedule(admin):
    from threadline.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        enable_survey(admin, "csat", schedule_days=90)
    with pytest.raises(ValidationFailed):
        enable_survey(admin, "nps", schedule_days=3)


def test_the_nps_schedule_leaves_an_api_channel_it_does_not_name_alone(client, admin, run_jobs):
    from threadline.conversations.tests.builders import inbound_conversation
    from threadline.testing.factories import make_api_channel

    conversation = inbound_conversation(client, make_api_channel(admin), run_jobs, "m-1", "dana@example.com")
    solve(admin, conversation)
    run_jobs()
    enable_survey(admin, "nps", schedule_days=90)
    tick()
    run_jobs()
    assert not SurveyRequest.objects.exists() and not ConversationEvent.objects.filter(
        kind__startswith="survey_").exists()
    enable_survey(admin, "nps", schedule_days=90, channel_kinds=["api"])
    send_scheduled_nps_task.enqueue()  # as the scheduler's next hourly slot would
    run_jobs()
    assert SurveyRequest.objects.get().trigger == "schedule"
