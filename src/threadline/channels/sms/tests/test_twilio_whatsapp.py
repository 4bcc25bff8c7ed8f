"""WhatsApp through a Twilio number: the customer wrote as `whatsapp:+…`, so the reply goes back the same way.

The expected request is the one Twilio's own SDK builds for `messages.create(to=..., from_=...)`.
"""

from __future__ import annotations

import datetime as dt
from logging import getLogger

import pytest
import time_machine
from django.db import transaction
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from threadline.channels.models import InboundEvent
from threadline.channels.sms.tests.helpers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    fixture,
    make_twilio_channel,
    twilio_post,
)
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, Message
from threadline.core.errors import ValidationFailed

CUSTOMER, BUSINESS = "+14155552671", "+14155238886"  # Twilio's WhatsApp sandbox number answers the customer
SID = "c" * 32


class _RecordingClient(HttpClient):
    """Twilio's HTTP client interface, keeping the request the SDK builds instead of sending it."""

    def __init__(self) -> None:
        super().__init__(getLogger("twilio-oracle"), is_async=False)
        self.sent: list[dict] = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        self.sent.append(dict(data or {}))
        return Response(201, fixture("send_response.json", sid=SID))


def sdk_form(**kwargs) -> dict[str, list[str]]:
    recorder = _RecordingClient()
    Client(ACCOUNT_SID, AUTH_TOKEN, http_client=recorder).messages.create(**kwargs)
    return {key: [str(value)] for key, value in recorder.sent[0].items()}


@pytest.fixture(autouse=True)
def _twilio_answers(provider):
    provider.route("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", 201,
                   fixture("send_response.json", sid=SID).encode())


def test_a_whatsapp_reply_through_twilio_goes_out_as_whatsapp(client, admin, run_jobs, provider):
    channel = make_twilio_channel(admin, api_base_url=provider.url)
    assert twilio_post(client, channel, fixture("inbound_whatsapp.form")).status_code == 202
    run_jobs()
    inbound = Message.objects.get()
    assert (inbound.identity.kind, inbound.identity.address) == ("whatsapp", CUSTOMER)
    assert inbound.identity.display_name == "Dana Levi"
    with transaction.atomic():
        reply = do_send_reply(admin, Conversation.objects.get(), "Yes, it left this morning.")
    run_jobs()
    sent = provider.calls("POST")[0].form()
    callback = f"{PUBLIC_URL}/hooks/sms/{channel.pk}/"
    assert sent == sdk_form(to=f"whatsapp:{CUSTOMER}", from_=f"whatsapp:{BUSINESS}",
                            body="Yes, it left this morning.", status_callback=callback)
    reply.refresh_from_db()
    assert (reply.status, reply.provider_message_id, reply.channel_id) == ("sent", f"SM{SID}", channel.pk)

    # WhatsApp's statuses come back through the same callback: read, then a failure with its reason
    assert twilio_post(client, channel, fixture("status_whatsapp_read.form", sid=SID)).status_code == 202
    run_jobs()
    reply.refresh_from_db()
    assert reply.status == "read"
    assert twilio_post(client, channel, fixture("status_whatsapp_failed.form", sid=SID)).status_code == 202
    run_jobs()
    reply.refresh_from_db()
    assert reply.status == "failed" and "63016" in reply.status_reason
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {"processed"}


def test_whatsapp_and_sms_of_one_number_each_answer_on_their_own_transport(client, admin, run_jobs, provider):
    """One person on WhatsApp and on SMS through one Twilio channel (a messaging service): each reply follows
    the identity the customer last wrote from."""
    service = "MG" + "0" * 32
    channel = make_twilio_channel(admin, api_base_url=provider.url, from_number="", messaging_service_sid=service)
    callback = f"{PUBLIC_URL}/hooks/sms/{channel.pk}/"
    twilio_post(client, channel, fixture("inbound_whatsapp.form"))
    run_jobs()
    with transaction.atomic():
        do_send_reply(admin, Message.objects.get().conversation, "on WhatsApp")
    run_jobs()
    assert provider.calls("POST")[0].form() == sdk_form(
        to=f"whatsapp:{CUSTOMER}", from_=f"whatsapp:{BUSINESS}", messaging_service_sid=service, body="on WhatsApp",
        status_callback=callback)
    twilio_post(client, channel, fixture("inbound_text.form"))
    run_jobs()
    sms = Message.objects.get(provider_message_id="SM1f0e8ae6ade43cb3c0ce4525424e404f")
    assert sms.identity.kind == "phone"
    with transaction.atomic():
        do_send_reply(admin, sms.conversation, "by SMS")
    run_jobs()
    assert provider.calls("POST")[1].form() == sdk_form(
        to=CUSTOMER, messaging_service_sid=service, body="by SMS", status_callback=callback)


def test_the_whatsapp_reply_window_holds_through_twilio(client, admin, run_jobs):
    """Twilio refuses free text 24 hours after the customer's last WhatsApp message (63016): refused up front."""
    channel = make_twilio_channel(admin)
    twilio_post(client, channel, fixture("inbound_whatsapp.form"))
    run_jobs()
    conversation = Conversation.objects.get()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=25), tick=False):
        with pytest.raises(ValidationFailed) as refused, transaction.atomic():
            do_send_reply(admin, conversation, "still there?")
        assert refused.value.code == "outside_reply_window"
        twilio_post(client, channel, fixture("inbound_text.form"))  # the same person by SMS: no window
        run_jobs()
        with transaction.atomic():
            do_send_reply(admin, conversation, "by SMS then")
