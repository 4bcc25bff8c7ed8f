"""Outreach under each channel's rules, against Twilio's and Meta's documented APIs on loopback: quiet hours in
each contact's own time zone (frozen time), consent refused per channel and purpose (an SMS STOP), rate limits
per channel per minute, the outcome of each message, and the contact's preferred reachable channel."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from threadline.channels.sms.tests.helpers import make_twilio_channel, twilio_post
from threadline.consent.actions import do_record_consent
from threadline.conversations.models import Conversation, ConversationEvent, Message
from threadline.outreach.models import Campaign, OutreachDelivery
from threadline.outreach.testkit import MESSAGES_PATH, campaign, contact, rows, settings
from threadline.surveys.tests.helpers import sms

pytestmark = pytest.mark.django_db

UTC = dt.UTC



def sent_to(provider) -> list[str]:
    return [c.form()["To"][0] for c in provider.calls("POST", MESSAGES_PATH)]


def test_quiet_hours_hold_each_contact_in_their_own_time_zone_until_they_end(admin, run_jobs, twilio):
    make_twilio_channel(admin, api_base_url=twilio.url)
    settings(admin, quiet_start=dt.time(21, 0), quiet_end=dt.time(8, 0))
    # 15:30 UTC: 22:30 in Bangkok (quiet), 17:30 in Jerusalem, 15:30 in the workspace's UTC, 10:30 in New York
    moment = dt.datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        contact(admin, "Somchai", phone="+66812345678")  # the zone from the phone number: Asia/Bangkok
        contact(admin, "Noa", phone="+972501234567")  # a mobile number: Israel's zone
        contact(admin, "Stored", phone="+14155550100", time_zone="Asia/Tokyo")  # 00:30 in Tokyo: quiet
        contact(admin, "Nobody")  # no identity at all: skipped, never held
        made = campaign(admin, "Hello {{name}}, our spring sale starts today.")
        run_jobs()
        found = rows(made)
        assert found["Noa"].status == "delivered" and found["Noa"].channel.kind == "sms"
        assert found["Somchai"].status == "held" and found["Somchai"].reason_code == "quiet_hours"
        assert found["Somchai"].due_at == dt.datetime(2026, 3, 11, 1, 0, tzinfo=UTC)  # 08:00 in Bangkok
        assert found["Stored"].due_at == dt.datetime(2026, 3, 10, 23, 0, tzinfo=UTC)  # 08:00 in Tokyo
        assert found["Nobody"].status == "skipped" and found["Nobody"].reason_code == "no_reachable_channel"
        assert sent_to(twilio) == ["+972501234567"]
        assert Campaign.objects.get().state == "sending"
    with time_machine.travel(dt.datetime(2026, 3, 10, 23, 0, 30, tzinfo=UTC), tick=False):
        run_jobs()
        assert rows(made)["Stored"].status == "delivered" and rows(made)["Somchai"].status == "held"
    with time_machine.travel(dt.datetime(2026, 3, 11, 1, 0, 30, tzinfo=UTC), tick=False):
        run_jobs()
        assert {n: r.status for n, r in rows(made).items()} == {
            "Noa": "delivered", "Somchai": "delivered", "Stored": "delivered", "Nobody": "skipped"}
        assert Campaign.objects.get().state == "done"
    assert sent_to(twilio) == ["+972501234567", "+14155550100", "+66812345678"]


def test_consent_is_checked_per_channel_and_purpose(client, admin, run_jobs, twilio):
    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    contact(admin, "Stopper", phone="+14155550101")
    marketing_only = contact(admin, "NoAds", phone="+14155550102")
    contact(admin, "Happy", phone="+14155550103")
    assert twilio_post(client, channel, sms(1, "STOP", "+14155550101")).status_code == 202
    run_jobs()
    with transaction.atomic():
        do_record_consent(admin, channel, "phone", marketing_only.identities.get().address, "opt_out",
                          purpose="marketing", note="said so on the phone")
    ads = campaign(admin, "Our sale", purpose="marketing")
    run_jobs()
    found = rows(ads)
    assert (found["Stopper"].status, found["Stopper"].reason_code) == ("skipped", "opted_out")
    assert "opted out" in found["Stopper"].reason
    assert (found["NoAds"].status, found["NoAds"].reason_code) == ("skipped", "opted_out")
    assert found["Happy"].status == "delivered"
    service = campaign(admin, "Your order is delayed", name="Delay", purpose="transactional")
    run_jobs()
    found = rows(service)
    assert found["Stopper"].reason_code == "opted_out"  # STOP stops everything
    assert found["NoAds"].status == "delivered" and found["Happy"].status == "delivered"  # a marketing opt-out does not


def test_a_provider_refusal_fails_the_row_with_the_providers_reason(admin, run_jobs, twilio):
    make_twilio_channel(admin, api_base_url=twilio.url)
    contact(admin, "Refused", phone="+420601123456")
    made = campaign(admin, "Hello")
    run_jobs()
    row = rows(made)["Refused"]
    assert row.status == "failed" and row.reason_code == "delivery_failed"
    assert "21610" in row.reason or "unsubscribed" in row.reason


def test_the_rate_limit_per_channel_per_minute_holds_the_rest_for_the_next_minute(admin, run_jobs, twilio):
    make_twilio_channel(admin, api_base_url=twilio.url)
    settings(admin, rate_limits={"sms": 3})
    start = dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for i in range(7):
            contact(admin, f"c{i}", phone=f"+1415555020{i}")
        made = campaign(admin, "Hello")
        run_jobs()
        counts = OutreachDelivery.objects.filter(campaign=made)
        assert counts.filter(status="delivered").count() == 3
        held = counts.filter(status="held")
        assert held.count() == 4 and {r.reason_code for r in held} == {"rate_limited"}
        # a schedule, not a retry every minute: three slots open in the next minute, the fourth in the one after
        assert sorted(r.due_at for r in held) == [start + dt.timedelta(minutes=1)] * 3 + [
            start + dt.timedelta(minutes=2)]
        assert len(sent_to(twilio)) == 3
    for minute, expected in ((1, 6), (2, 7)):
        with time_machine.travel(start + dt.timedelta(minutes=minute, seconds=1), tick=False):
            run_jobs()
            assert len(sent_to(twilio)) == expected
            assert OutreachDelivery.objects.filter(campaign=made, status="delivered").count() == expected
    assert Campaign.objects.get().state == "done"


def test_the_message_is_on_the_contacts_conversation_and_a_reply_threads_into_it(client, admin, run_jobs, twilio):
    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    dana = contact(admin, "Dana", phone="+14155550110", language="en")
    made = campaign(admin, "Hello {{name}}, your parcel is on its way.", purpose="transactional")
    run_jobs()
    row = rows(made)["Dana"]
    message = Message.objects.get(pk=row.message_id)
    assert message.text == "Hello Dana, your parcel is on its way." and message.author_kind == "system"
    assert message.metadata["outreach"] == {"campaign_id": made.pk, "delivery_id": row.pk}
    conversation = message.conversation
    assert conversation.contact_id == dana.pk
    assert ConversationEvent.objects.filter(conversation=conversation, kind="outreach_sent").exists()
    twilio_post(client, channel, sms(5, "Thanks! When will it arrive?", "+14155550110"))
    run_jobs()
    assert Conversation.objects.filter(contact=dana).count() == 1
    answer = Message.objects.filter(direction="in").get()
    assert answer.conversation_id == conversation.pk


def test_preferred_channel_stated_then_learned_then_the_regions_default(admin, run_jobs, twilio, settings):
    from threadline.channels.email.testkit import make_email_channel

    make_twilio_channel(admin, api_base_url=twilio.url)
    make_email_channel(admin, relay_url="smtp://127.0.0.1:9")  # nothing listens: the row fails, the choice is kept
    settings_ = {"region_defaults": {"IL": "sms"}}
    from threadline.outreach.testkit import settings as save_settings

    save_settings(admin, **settings_)
    contact(admin, "Stated", phone="+14155550120", email="stated@example.com", preferred_channel="sms")
    contact(admin, "Regional", phone="+972501234500", email="regional@example.com")
    contact(admin, "Anything", phone="+14155550121", email="any@example.com")
    made = campaign(admin, "Hello")
    run_jobs()
    found = rows(made)
    assert (found["Stated"].channel.kind, found["Stated"].channel_choice) == ("sms", "stated")
    assert (found["Regional"].channel.kind, found["Regional"].channel_choice) == ("sms", "regional")
    assert (found["Anything"].channel.kind, found["Anything"].channel_choice) == ("email", "any")


def test_held_notifications_wake_one_job_and_a_cancelled_campaign_skips_the_rest(admin, run_jobs, twilio):
    from threadline.jobs.models import Job
    from threadline.outreach.actions import do_cancel_campaign, do_notify

    make_twilio_channel(admin, api_base_url=twilio.url)
    settings(admin, quiet_start=dt.time(21, 0), quiet_end=dt.time(8, 0))
    night = dt.datetime(2026, 3, 10, 23, 0, tzinfo=UTC)  # 23:00 in the workspace's UTC, and for these numbers' zone
    with time_machine.travel(night, tick=False):
        people = [contact(admin, f"n{i}", phone=f"+4420794600{i:02d}") for i in range(3)]  # London numbers
        alert = campaign(admin, "Your parcel is delayed", kind="notification", event="delayed",
                         purpose="transactional", start=False)
        with transaction.atomic():
            for person in people:
                do_notify(admin, "delayed", person)
        run_jobs()
        assert set(OutreachDelivery.objects.filter(campaign=alert).values_list("status", flat=True)) == {"held"}
        morning = dt.datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
        assert Job.objects.filter(task__endswith="send_campaign_task", run_after=morning).count() == 1
        sale = campaign(admin, "Sale")
        run_jobs()
        assert set(OutreachDelivery.objects.filter(campaign=sale).values_list("status", flat=True)) == {"held"}
        with transaction.atomic():
            do_cancel_campaign(admin, sale)
    with time_machine.travel(dt.datetime(2026, 3, 11, 8, 0, 30, tzinfo=UTC), tick=False):
        run_jobs()
        assert set(OutreachDelivery.objects.filter(campaign=alert).values_list("status", flat=True)) == {"delivered"}
        cancelled = OutreachDelivery.objects.filter(campaign=sale)
        assert {(r.status, r.reason_code) for r in cancelled} == {("skipped", "cancelled")}
        assert Campaign.objects.get(pk=sale.pk).state == "cancelled"
    assert len(sent_to(twilio)) == 3
