"""The generic outbound path: a reply an adapter cannot build or send ends `failed` with a reason an agent
can read (issue 9 item 8), whatever the channel kind; only transient errors are retried."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import transaction

from threadline.channels.actions import do_create_channel
from threadline.channels.base import InboundMessage
from threadline.channels.email.testkit import make_email_channel, running_sink
from threadline.channels.fake_provider import FakeProvider
from threadline.channels.models import Delivery
from threadline.conversations.actions import do_send_reply, receive_inbound_message
from threadline.conversations.models import DeliveryStatus
from threadline.jobs.models import Job

TELEGRAM = Path(__file__).resolve().parent.parent / "telegram" / "fixtures"
TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def bot_api():
    fake = FakeProvider().start()
    answer = json.loads((TELEGRAM / "send_message.json").read_text())
    fake.route("POST", f"/bot{TOKEN}/sendMessage", 200, answer)
    fake.route("POST", f"/bot{TOKEN}/sendDocument", 200, answer)
    yield fake
    fake.stop()


@pytest.fixture
def smtp_sink():
    yield from running_sink()


def telegram_channel(admin, bot_api, _sink):
    with transaction.atomic():
        channel = do_create_channel(admin, "telegram", "Acme bot", {
            "bot_token": TOKEN, "secret_token": "tl_secret_token_0123456789abcdef", "api_base_url": bot_api.url})
    return channel, "telegram", "111222333"


def email_channel(admin, _bot_api, sink):
    return make_email_channel(admin, relay_url=sink.url), "email", "dana@example.com"


@pytest.mark.parametrize("make", [telegram_channel, email_channel], ids=["telegram", "email"])
def test_an_attachment_gone_from_storage_fails_the_reply_with_the_reason(admin, run_jobs, api, bot_api, smtp_sink,
                                                                         make):
    """Before: the adapter's FileNotFoundError went back to the job queue, the job died after its attempts,
    and the reply stayed `queued` with no reason anywhere."""
    channel, kind, address = make(admin, bot_api, smtp_sink)
    with transaction.atomic():
        first = receive_inbound_message(channel, InboundMessage(
            provider_message_id="in-1", sender_kind=kind, sender_address=address, sender_name="Dana", text="Hi"))
        reply = do_send_reply(admin, first.conversation, "The receipt.",
                              attachments=[("receipt.pdf", "application/pdf", b"%PDF-1.7 receipt")])
    stored = reply.attachments.get()
    stored.file.storage.delete(stored.file.name)  # a disk that lost the file, a restore without media
    run_jobs()
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.FAILED
    assert "FileNotFoundError" in reply.status_reason
    assert Delivery.objects.get(message=reply).state == Delivery.State.FAILED
    assert not Job.objects.filter(state=Job.State.QUEUED).exists()
    assert Job.objects.filter(state=Job.State.DEAD).count() == 0
    shown = api.get(f"/api/v1/messages/{reply.pk}").json()
    assert (shown["status"], shown["status_reason"]) == ("failed", reply.status_reason)
    assert [r.path for r in bot_api.requests if "/send" in r.path] == [] and smtp_sink.handler.received == []
