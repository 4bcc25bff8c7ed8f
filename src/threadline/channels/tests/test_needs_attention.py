"""Issue 9 item 1: nothing acknowledged is dropped in silence.

An identity the provider vouches for is stored as the provider gives it; an event that truly cannot be
processed ends `failed` with a human reason, is listed as "needs attention" for the workspace's admins
(REST and /app/), keeps its payload, and is replayed after a fix.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.db import transaction

from threadline.channels.inbound import MAX_ATTEMPTS, process_inbound_event_task
from threadline.channels.models import InboundEvent
from threadline.channels.whatsapp.tests.helpers import (
    GOOD_TOKEN,
    MEDIA_ID,
    PHONE_NUMBER_ID,
    fixture,
    make_whatsapp_channel,
    meta_post,
    strict_graph,
)
from threadline.contacts.models import ContactIdentity
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Message
from threadline.events.models import OutboxEvent
from threadline.jobs.models import Job
from threadline.jobs.registry import Retry
from threadline.testing import factories
from threadline.webhooks.queries import known_event_types


@pytest.fixture
def graph():
    fake = strict_graph()
    yield fake
    fake.stop()


def accepted(client, channel, name: str) -> InboundEvent:
    response = meta_post(client, channel, fixture(name))
    assert response.status_code == 202, response.content
    return InboundEvent.objects.get(pk=response.json()["inbound_event_id"])


def test_a_whatsapp_sender_with_a_username_and_no_number_is_stored_by_business_scoped_id(client, admin, run_jobs):
    channel = make_whatsapp_channel(admin)
    event = accepted(client, channel, "text_username_no_phone.json")
    run_jobs()
    event.refresh_from_db()
    assert event.state == InboundEvent.State.PROCESSED, event.error
    message = Message.objects.get(channel=channel)
    assert message.text == "Hola, ¿dónde está mi pedido?"
    assert message.identity.kind == "whatsapp" and message.identity.address == "MX.1502576394655843"
    assert message.identity.display_name == "Marisol Rivera"
    assert message.metadata["whatsapp_user"] == {"user_id": "MX.1502576394655843", "username": "marisol.rivera",
                                                 "parent_user_id": "MX.ENT.11815799212886844830"}


def test_a_whatsapp_number_the_phone_library_calls_too_long_is_kept_as_the_provider_gives_it(
        client, admin, run_jobs, graph):
    channel = make_whatsapp_channel(admin, graph.url)
    event = accepted(client, channel, "text_mexico_521.json")
    run_jobs()
    event.refresh_from_db()
    assert event.state == InboundEvent.State.PROCESSED, event.error
    identity = ContactIdentity.objects.get(workspace_id=admin.workspace_id, kind="whatsapp")
    assert identity.address == "+5215512345678"  # E.164 of the digits WhatsApp sent, not refused
    assert Message.objects.get(channel=channel).identity == identity
    # A reply goes back to the number WhatsApp knows.
    conversation = Message.objects.get(channel=channel).conversation
    with transaction.atomic():
        do_send_reply(admin, conversation, "Claro, ¿cuál es la nueva dirección?")
    run_jobs()
    sent = graph.calls("POST", f"/{PHONE_NUMBER_ID}/messages")[-1].json()
    assert sent["to"] == "+5215512345678"


def test_an_event_that_fails_is_listed_with_its_reason_and_replayed_after_the_fix(client, admin, run_jobs, graph):
    """The provider refuses the media download (a wrong access token): no silent retries and no dead job
    seen only in the Django admin, but a failed event with the reason; the admin fixes the token, replays,
    and the message is stored with its picture."""
    channel = make_whatsapp_channel(admin, graph.url)  # configured with a token Meta refuses
    event = accepted(client, channel, "image.json")
    run_jobs()
    event.refresh_from_db()
    assert event.state == InboundEvent.State.FAILED
    assert event.error_code == "provider_refused" and "401" in event.error and "Invalid OAuth" in event.error
    assert not Job.objects.filter(state=Job.State.DEAD).exists()
    assert Message.objects.count() == 0
    # Subscribers hear of it (an outbound webhook can alert the team): a documented event type.
    published = OutboxEvent.objects.get(type="inbound_event.failed")
    assert published.payload["inbound_event_id"] == event.pk and published.payload["error_code"] == "provider_refused"
    assert "inbound_event.failed" in known_event_types()

    token = factories.make_token(admin)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    listed = client.get("/api/v1/inbound-events?state=failed", **auth).json()
    assert [(e["id"], e["channel_kind"], e["needs_attention"]) for e in listed["items"]] == [
        (event.pk, "whatsapp", True)]
    assert "Invalid OAuth" in listed["items"][0]["reason"]
    assert client.get("/api/v1/inbound-events?state=attention", **auth).json()["items"][0]["id"] == event.pk
    detail = client.get(f"/api/v1/inbound-events/{event.pk}", **auth).json()
    assert json.loads(detail["payload"])["entry"][0]["changes"][0]["value"]["messages"][0]["type"] == "image"
    assert detail["headers"]["x-hub-signature-256"].startswith("sha256=")

    fixed = client.patch(f"/api/v1/channels/{channel.pk}", {"config": {"access_token": GOOD_TOKEN}},
                         content_type="application/json", **auth)
    assert fixed.status_code == 200, fixed.content
    replayed = client.post(f"/api/v1/inbound-events/{event.pk}/replay", **auth)
    assert replayed.status_code == 202, replayed.content
    assert replayed.json()["state"] == "received" and replayed.json()["replays"] == 1
    run_jobs()
    event.refresh_from_db()
    assert event.state == InboundEvent.State.PROCESSED and event.error == ""
    message = Message.objects.get(channel=channel)
    assert message.text == "The box arrived like this"
    assert [a.content_type for a in message.attachments.all()] == ["image/jpeg"]
    assert client.get("/api/v1/inbound-events?state=attention", **auth).json()["items"] == []
    again = client.post(f"/api/v1/inbound-events/{event.pk}/replay", **auth)
    assert again.status_code == 409 and again.json()["code"] == "already_processed"


def test_passing_errors_are_retried_then_the_event_fails_visibly(client, admin, graph):
    channel = make_whatsapp_channel(admin, graph.url)
    graph.route("GET", f"/{MEDIA_ID}", 503, {"error": {"message": "Service temporarily unavailable"}})
    event = accepted(client, channel, "image.json")
    for _attempt in range(MAX_ATTEMPTS - 1):
        with pytest.raises(Retry):
            process_inbound_event_task(event.pk)
        event.refresh_from_db()
        assert event.state == InboundEvent.State.RECEIVED and event.error_code == "retrying"
    process_inbound_event_task(event.pk)
    event.refresh_from_db()
    assert event.state == InboundEvent.State.FAILED and event.error_code == "gave_up"
    assert f"after {MAX_ATTEMPTS} attempts" in event.error and "503" in event.error


def test_only_admins_of_the_workspace_see_and_replay_its_events(client, admin, run_jobs, graph):
    channel = make_whatsapp_channel(admin, graph.url)
    event = accepted(client, channel, "image.json")
    run_jobs()
    other = factories.make_workspace("Other Shop")
    make_whatsapp_channel(other, graph.url)
    theirs = {"HTTP_AUTHORIZATION": f"Bearer {factories.make_token(other)}"}
    assert client.get("/api/v1/inbound-events?state=failed", **theirs).json()["items"] == []
    assert client.get(f"/api/v1/inbound-events/{event.pk}", **theirs).status_code == 404
    refused = client.post(f"/api/v1/inbound-events/{event.pk}/replay", **theirs)
    assert refused.status_code == 404 and refused.json()["code"] == "inbound_event_not_found"
    assert client.post(f"/api/v1/inbound-events/{event.pk}/dismiss", **theirs).status_code == 404

    agent = factories.make_agent(admin, "agent@example.com")
    mine = {"HTTP_AUTHORIZATION": f"Bearer {factories.make_token(agent)}"}
    assert client.get("/api/v1/inbound-events", **mine).status_code == 403
    assert client.post(f"/api/v1/inbound-events/{event.pk}/replay", **mine).status_code == 403
    event.refresh_from_db()
    assert event.state == InboundEvent.State.FAILED and event.replays == 0

    owner = {"HTTP_AUTHORIZATION": f"Bearer {factories.make_token(admin)}"}
    dismissed = client.post(f"/api/v1/inbound-events/{event.pk}/dismiss", **owner)
    assert dismissed.status_code == 200 and dismissed.json()["state"] == "ignored"
    assert client.get("/api/v1/inbound-events?state=attention", **owner).json()["items"] == []


def test_an_event_still_unprocessed_long_after_it_arrived_needs_attention_and_replays(client, admin, run_jobs):
    """No worker ran (a stopped worker, a dead job): after 15 minutes the event is listed; a replay queues
    it again and it is processed once, even though its first job is still waiting too."""
    channel = make_whatsapp_channel(admin)
    event = accepted(client, channel, "text_username_no_phone.json")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {factories.make_token(admin)}"}
    assert client.get("/api/v1/inbound-events?state=attention", **auth).json()["items"] == []
    with time_machine.travel(dt.timedelta(minutes=16)):
        listed = client.get("/api/v1/inbound-events?state=attention", **auth).json()["items"]
        assert [(e["id"], e["state"], e["needs_attention"]) for e in listed] == [(event.pk, "received", True)]
    assert client.post(f"/api/v1/inbound-events/{event.pk}/replay", **auth).status_code == 202
    run_jobs()  # the first job and the replay's: whichever runs second finds it processed
    assert Job.objects.filter(task__endswith="process_inbound_event_task", state=Job.State.DONE).count() == 2
    event.refresh_from_db()
    assert event.state == InboundEvent.State.PROCESSED
    assert Message.objects.filter(channel=channel).count() == 1
