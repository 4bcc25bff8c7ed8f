"""The bulk path's guarantees (issue 11): a delivery job killed mid-batch loses and duplicates nothing when it
runs again; a provider's "too many requests" schedules the rest of the batch instead of retrying each message;
a recipient that cannot be decided waits visibly (held, `processing_error`) without stopping the others; a
batch's requests are in flight together, as agents' replies are."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest

from threadline.channels.fake_provider import Call, FakeProvider
from threadline.channels.models import Delivery
from threadline.channels.outbound import deliver_messages_task
from threadline.channels.sms.tests.helpers import PUBLIC_URL, fixture, make_twilio_channel
from threadline.jobs.models import Job
from threadline.outreach.models import Campaign, OutreachDelivery
from threadline.outreach.tasks import send_campaign_task
from threadline.outreach.testkit import MESSAGES_PATH, campaign, contact, twilio_provider

pytestmark = pytest.mark.django_db

DELIVER_BATCH = "threadline.channels.outbound.deliver_messages_task"


def sent_to(provider) -> list[str]:
    return [c.form()["To"][0] for c in provider.calls("POST", MESSAGES_PATH)]


def test_a_delivery_job_killed_mid_batch_runs_again_without_losing_or_repeating_a_message(admin, run_jobs, twilio):
    make_twilio_channel(admin, api_base_url=twilio.url)
    for i in range(8):
        contact(admin, f"c{i}", phone=f"+1415555030{i}")
    made = campaign(admin, "Hello {{name}}")
    send_campaign_task(made.pk)  # decided and stored: one delivery job for the batch, not run yet
    (job,) = Job.objects.filter(task=DELIVER_BATCH, state="queued")
    ids = job.args[0]
    assert len(ids) == 8
    deliver_messages_task(ids[:3])  # the worker sent three, recorded each, then was killed: its job still waits
    assert len(sent_to(twilio)) == 3
    Job.objects.filter(pk=job.pk).update(state="running", locked_by="dead:1:1",
                                         lease_until=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))  # its lease ran out
    run_jobs()
    assert sorted(sent_to(twilio)) == sorted(f"+1415555030{i}" for i in range(8))  # each exactly once
    assert set(OutreachDelivery.objects.filter(campaign=made).values_list("status", flat=True)) == {"delivered"}
    assert Campaign.objects.get(pk=made.pk).state == "done"


def test_a_providers_too_many_requests_schedules_the_rest_of_the_batch(admin, run_jobs, settings):
    settings.PUBLIC_URL = PUBLIC_URL
    counter, answered = itertools.count(1), {"busy": True}
    sent = fixture("send_response.json")

    def answer(call: Call) -> tuple[int, bytes, dict[str, str]]:
        if answered["busy"]:
            answered["busy"] = False  # Twilio's 429 once (its error 20429), with how long to wait
            return 429, json.dumps({"code": 20429, "message": "Too Many Requests", "status": 429}).encode(), {
                "Content-Type": "application/json", "Retry-After": "30"}
        to = call.form()["To"][0]
        return 201, sent.replace("{sid}", f"{next(counter):032d}").replace("+14155552671", to).encode(), {
            "Content-Type": "application/json"}

    provider = FakeProvider().start()
    provider.handle("POST", MESSAGES_PATH, answer)
    try:
        make_twilio_channel(admin, api_base_url=provider.url)
        for i in range(5):
            contact(admin, f"c{i}", phone=f"+1415555040{i}")
        made = campaign(admin, "Hello")
        run_jobs()
        assert len(provider.calls("POST", MESSAGES_PATH)) == 1  # the channel is not asked again by this batch
        waiting = Delivery.objects.filter(state="pending")
        assert waiting.count() == 5 and waiting.exclude(next_attempt_at=None).count() == 5
        # only the one sent counts an attempt: the four never asked are not nearer to giving up
        assert sorted(waiting.values_list("attempts", flat=True)) == [0, 0, 0, 0, 1]
        (later,) = Job.objects.filter(task=DELIVER_BATCH, state="queued")  # one job for all five, not five retries
        assert later.args[0] == sorted(waiting.values_list("message_id", flat=True))
        assert not Job.objects.filter(task="threadline.channels.outbound.deliver_message_task").exists()
        Job.objects.filter(pk=later.pk).update(run_after=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))  # 30 s passed
        run_jobs()
        assert len(provider.calls("POST", MESSAGES_PATH)) == 6
        assert set(OutreachDelivery.objects.filter(campaign=made).values_list("status", flat=True)) == {"delivered"}
    finally:
        provider.stop()


def test_a_recipient_that_cannot_be_decided_waits_visibly_and_the_others_go(admin, run_jobs, twilio):
    make_twilio_channel(admin, api_base_url=twilio.url)
    contact(admin, "Fine", phone="+14155550501")
    broken = contact(admin, "Broken", phone="+14155550502")
    made = campaign(admin, "Hello {{name}}")
    # a row whose stored variables are not an object (written by an older version, say): it cannot be rendered
    OutreachDelivery.objects.filter(campaign=made, contact=broken).update(variables=["not", "an", "object"])
    run_jobs()
    assert sent_to(twilio) == ["+14155550501"]
    row = OutreachDelivery.objects.get(campaign=made, contact=broken)
    assert row.status == "held" and row.reason_code == "processing_error" and row.due_at is not None
    assert "TypeError" in row.reason
    assert Campaign.objects.get(pk=made.pk).state == "sending"  # not done while a recipient waits
    OutreachDelivery.objects.filter(pk=row.pk).update(variables={}, due_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    send_campaign_task(made.pk)  # decided again once its wait is over (or the job replayed): it goes
    run_jobs()
    assert sorted(sent_to(twilio)) == ["+14155550501", "+14155550502"]
    assert Campaign.objects.get(pk=made.pk).state == "done"


@pytest.mark.django_db(transaction=True)
def test_a_batchs_requests_are_in_flight_together_each_sent_once(admin, run_jobs, settings):
    """Outside a test's transaction, as in the worker: a provider that takes 0.2 s per request sees several of
    the batch's requests at once (SEND_THREADS), and each recipient gets one message."""
    settings.PUBLIC_URL = PUBLIC_URL
    phones = [f"+1415555060{i}" for i in range(8)]
    for number in phones:
        contact(admin, number, phone=number)
    provider = twilio_provider(fixture("send_response.json"), latency=0.2)  # a provider's latency: overlaps seen
    try:
        make_twilio_channel(admin, api_base_url=provider.url)
        made = campaign(admin, "Hello {{name}}")
        run_jobs()
    finally:
        provider.stop()
    assert sorted(sent_to(provider)) == phones  # each exactly once
    assert provider.flight["most"] > 1, provider.flight
    assert set(OutreachDelivery.objects.filter(campaign=made).values_list("status", flat=True)) == {"delivered"}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
