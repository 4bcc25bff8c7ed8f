"""A caller walks the IVR with DTMF digits (and speech); the TwiML of every step is checked, then the
worker turns the stored callbacks into the caller's timeline: call, queue, voicemail, callback, missed call."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote_plus

import pytest
import time_machine
from django.db import transaction

from threadline.channels.fake_provider import FakeProvider
from threadline.channels.models import InboundEvent
from threadline.channels.sms.tests.helpers import PUBLIC_URL
from threadline.channels.voice.tests.helpers import (
    ACCOUNT_SID,
    Caller,
    fixture,
    make_voice_channel,
    query,
    verbs,
)
from threadline.conversations.calls import do_complete_callback, open_callback_tasks
from threadline.conversations.models import Conversation, ConversationEvent, Message
from threadline.tenancy.actions import do_create_team


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_URL = PUBLIC_URL


@pytest.fixture
def team(admin):
    with transaction.atomic():
        return do_create_team(admin.workspace, "Orders")


@pytest.fixture
def caller(client, admin, team):
    return Caller(client, make_voice_channel(admin, team.pk))


def timeline(kind_prefix: str = "call_") -> list[str]:
    return [e.kind for e in ConversationEvent.objects.order_by("id") if e.kind.startswith(kind_prefix)
            or e.kind == "callback_task"]


def test_dtmf_walk_language_menu_submenu_invalid_choice_then_queue(caller, team, run_jobs):
    root = caller.start()
    assert verbs(root) == ["Gather", "Redirect"]
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1" and query(gather.get("action"))["step"] == "language"
    assert [(s.text, s.get("language")) for s in gather] == [("For English, press 1.", "en-US"),
                                                              ("לעברית, הקישו 2.", "he-IL")]

    root = caller.press(gather.get("action"), "1")
    assert verbs(root) == ["Say", "Gather", "Redirect"]
    assert root.find("Say").text == "Thank you for calling Acme."
    menu = root.find("Gather")
    assert menu.get("input") == "dtmf speech" and menu.get("language") == "en-US"
    assert query(menu.get("action")) == {"step": "choice", "lang": "en-US", "menu": "main", "retry": "0"}
    assert menu.find("Say").text.startswith("For orders press 1")
    assert "billing" in menu.get("hints")

    root = caller.press(menu.get("action"), "7")  # not an option
    assert verbs(root) == ["Say", "Gather", "Redirect"]
    assert root.find("Say").text == "Sorry, that is not an option."
    assert query(root.find("Gather").get("action"))["retry"] == "1"

    root = caller.press(root.find("Gather").get("action"), "2")  # billing submenu
    billing = root.find("Gather")
    assert query(billing.get("action"))["menu"] == "billing"
    assert billing.find("Say").text == "For your last invoice press 1, to go back press 9."

    root = caller.press(billing.get("action"), "1")  # a spoken answer, then the same menu again
    assert verbs(root) == ["Say", "Gather", "Redirect"]
    assert root.find("Say").text == "Your last invoice was emailed on the first of the month."

    root = caller.press(root.find("Gather").get("action"), "9")  # back to the main menu
    assert query(root.find("Gather").get("action"))["menu"] == "main"

    root = caller.press(root.find("Gather").get("action"), "1")  # orders: queued to the team
    assert verbs(root) == ["Say", "Enqueue"]
    enqueue = root.find("Enqueue")
    assert enqueue.text == f"team-{team.pk}"
    assert query(enqueue.get("action")) == {"step": "queue_result", "lang": "en-US", "team": str(team.pk)}

    caller.post(enqueue.get("action"), fixture("enqueue_result.form", result="bridged"))
    caller.post(f"{PUBLIC_URL}/hooks/voice/{caller.channel.pk}/?step=status",
                fixture("call_status.form", status="completed", duration="184"))
    run_jobs()
    assert timeline() == ["call_started", "call_queued", "call_answered", "call_completed"]
    queued = ConversationEvent.objects.get(kind="call_queued")
    assert queued.data["team_id"] == team.pk and queued.data["from"] == "+14155552671"
    assert ConversationEvent.objects.get(kind="call_completed").data["duration_seconds"] == 184
    assert not open_callback_tasks(caller.channel.workspace_id).exists()
    assert Conversation.objects.count() == 1
    assert InboundEvent.objects.filter(channel=caller.channel, state="processed").count() == 9


def test_hebrew_caller_speaks_the_option(caller):
    root = caller.press(caller.start().find("Gather").get("action"), "2")
    assert root.find("Say").text == "תודה שהתקשרתם לאקמה."
    menu = root.find("Gather")
    assert menu.get("language") == "he-IL"
    answer = caller.twiml(menu.get("action"), fixture("gather_speech.form", speech=quote_plus("חיוב בבקשה")))
    assert query(answer.find("Gather").get("action"))["menu"] == "billing"


def test_voicemail_recording_and_transcription_reach_the_timeline(caller, run_jobs):
    media = FakeProvider().start()
    try:
        recording = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE4e0b9e2c5f3a4d1b8c7e6f5a4b3c2d1e.mp3"
        media.route("GET", recording, 200, b"ID3-mp3-voicemail", {"Content-Type": "audio/mpeg"})
        menu = caller.press(caller.start().find("Gather").get("action"), "1").find("Gather")
        root = caller.press(menu.get("action"), "3")
        assert verbs(root) == ["Say", "Record"]
        record = root.find("Record")
        assert record.get("playBeep") == "true" and record.get("transcribe") == "true"
        assert query(record.get("recordingStatusCallback"))["step"] == "recording"
        done = caller.press(record.get("action"), "")
        assert verbs(done) == ["Say", "Hangup"]
        caller.post(record.get("recordingStatusCallback"),
                    fixture("recording_status.form").replace("{media}", quote_plus(media.url)))
        caller.post(f"{PUBLIC_URL}/hooks/voice/{caller.channel.pk}/?step=status",
                    fixture("call_status.form", status="completed", duration="55"))
        caller.post(record.get("transcribeCallback"), fixture("transcription.form"))
        run_jobs()
    finally:
        media.stop()
    voicemail = Message.objects.get(metadata__voicemail=True)
    assert voicemail.text == "Voicemail (0:42)\nHi this is Sam about order 1001 please call me back"
    attachment = voicemail.attachments.get()
    assert (attachment.content_type, attachment.file.read()) == ("audio/mpeg", b"ID3-mp3-voicemail")
    assert media.calls("GET", recording)[0].headers["authorization"].startswith("Basic ")
    assert timeline() == ["call_started", "call_voicemail", "call_completed", "call_transcription"]


def test_callback_request_with_another_number_creates_a_task(caller, admin, run_jobs):
    menu = caller.press(caller.start().find("Gather").get("action"), "1").find("Gather")
    root = caller.press(menu.get("action"), "4")
    offer = root.find("Gather")
    assert "4 1 5 5 5 5 2 6 7 1" in offer.find("Say").text
    root = caller.press(offer.get("action"), "2")  # another number
    entry = root.find("Gather")
    assert entry.get("finishOnKey") == "#"
    root = caller.press(entry.get("action"), "0525551234#")
    confirm = root.find("Gather")
    assert query(confirm.get("action"))["number"] == "+972525551234"
    assert "9 7 2 5 2 5 5 5 1 2 3 4" in confirm.find("Say").text
    root = caller.press(confirm.get("action"), "1")
    assert verbs(root) == ["Say", "Hangup"]
    caller.post(f"{PUBLIC_URL}/hooks/voice/{caller.channel.pk}/?step=status",
                fixture("call_status.form", status="completed", duration="40"))
    run_jobs()
    assert timeline() == ["call_started", "call_callback_requested", "callback_task", "call_completed"]
    task = open_callback_tasks(admin.workspace_id).get()
    assert task.data["number"] == "+972525551234" and task.data["reason"] == "callback_requested"
    with transaction.atomic():
        do_complete_callback(admin, task.pk, outcome="reached")
    assert not open_callback_tasks(admin.workspace_id).exists()


@pytest.mark.parametrize("status", ["no-answer", "busy", "canceled"])
def test_missed_call_creates_one_callback_task(client, admin, team, run_jobs, status):
    caller = Caller(client, make_voice_channel(admin, team.pk))
    caller.start()
    caller.post(f"{PUBLIC_URL}/hooks/voice/{caller.channel.pk}/?step=status",
                fixture("call_status.form", status=status, duration="0"))
    run_jobs()
    assert timeline() == ["call_started", "call_missed", "callback_task"]
    assert open_callback_tasks(admin.workspace_id).get().data["reason"] == "missed_call"


def test_hanging_up_in_the_queue_is_a_missed_call(caller, run_jobs):
    menu = caller.press(caller.start().find("Gather").get("action"), "1").find("Gather")
    enqueue = caller.press(menu.get("action"), "1").find("Enqueue")
    caller.post(enqueue.get("action"), fixture("enqueue_result.form", result="hangup"))
    caller.post(f"{PUBLIC_URL}/hooks/voice/{caller.channel.pk}/?step=status",
                fixture("call_status.form", status="completed", duration="70"))
    run_jobs()
    assert timeline() == ["call_started", "call_queued", "call_missed", "callback_task", "call_completed"]


def test_after_hours_goes_to_voicemail(client, admin, team):
    hours = {"timezone": "Asia/Jerusalem", "weekly": {"mon": [["09:00", "17:00"]]}, "closed_action": "voicemail",
             "closed_prompt": {"texts": {"en-US": "We are closed."}}}
    caller = Caller(client, make_voice_channel(admin, team.pk, hours=hours))
    sunday_night = dt.datetime(2026, 11, 22, 21, 0, tzinfo=dt.UTC)
    with time_machine.travel(sunday_night, tick=False):
        root = caller.press(caller.start().find("Gather").get("action"), "1")
    assert verbs(root) == ["Say", "Say", "Say", "Record"]
    assert [s.text for s in root.findall("Say")][:2] == ["Thank you for calling Acme.", "We are closed."]
    monday_ten = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)  # 10:00 in Jerusalem
    with time_machine.travel(monday_ten, tick=False):
        root = caller.press(caller.start().find("Gather").get("action"), "1")
    assert verbs(root) == ["Say", "Gather", "Redirect"]


def test_unsigned_or_tampered_voice_requests_get_no_twiml(caller):
    url = f"{PUBLIC_URL}/hooks/voice/{caller.channel.pk}/"
    assert caller.post(url, fixture("incoming_call.form"), signature="").status_code == 401
    good = caller.post(url, fixture("incoming_call.form"))
    assert good.status_code == 200
    forged = caller.post(url + "?step=callback_confirm&number=%2B15550000000",
                         fixture("gather_digits.form", digits="1"),
                         signature=good.request.get("HTTP_X_TWILIO_SIGNATURE", "x"))
    assert forged.status_code == 401
    assert InboundEvent.objects.count() == 1


def test_withheld_caller_id_gets_the_ivr_and_its_voicemail_is_kept(caller, admin, run_jobs):
    """Issue 9 item 1: a withheld caller id used to be acknowledged and dropped, voicemail included. The call
    now gets a contact of its own ("Withheld number"), its recording is fetched and stored; a missed call
    opens no callback task (there is no number to call)."""
    anonymous = {"From=%2B14155552671": "From=%2B266696687", "Caller=%2B14155552671": "Caller=%2B266696687"}

    def withheld(body: str) -> str:
        for old, new in anonymous.items():
            body = body.replace(old, new)
        return body

    media = FakeProvider().start()
    try:
        recording = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE4e0b9e2c5f3a4d1b8c7e6f5a4b3c2d1e.mp3"
        media.route("GET", recording, 200, b"ID3-mp3-voicemail", {"Content-Type": "audio/mpeg"})
        root = caller.twiml(f"{PUBLIC_URL}/hooks/voice/{caller.channel.pk}/", withheld(fixture("incoming_call.form")))
        assert verbs(root) == ["Gather", "Redirect"]
        caller.post(f"{PUBLIC_URL}/hooks/voice/{caller.channel.pk}/?step=recording",
                    fixture("recording_status.form").replace("{media}", quote_plus(media.url)))
        caller.post(f"{PUBLIC_URL}/hooks/voice/{caller.channel.pk}/?step=status",
                    withheld(fixture("call_status.form", status="no-answer", duration="0")))
        run_jobs()
    finally:
        media.stop()
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {"processed"}
    voicemail = Message.objects.get(metadata__voicemail=True)
    assert voicemail.attachments.get().file.read() == b"ID3-mp3-voicemail"
    assert voicemail.identity.kind == "external" and voicemail.identity.address.startswith("withheld-caller:CA")
    assert voicemail.conversation.contact.name == "Withheld number"
    assert timeline() == ["call_started", "call_voicemail", "call_missed"]
    assert not open_callback_tasks(admin.workspace_id).exists()
