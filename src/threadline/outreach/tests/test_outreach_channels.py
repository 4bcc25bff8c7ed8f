"""Outreach on WhatsApp (Meta's Graph API on loopback) and email (a real SMTP server on loopback): outside the 24 h
window the campaign's approved template goes, without one the recipient is skipped with the reason; outreach mail
carries RFC 8058 one-click List-Unsubscribe headers whose signed URL records the consent withdrawal."""

from __future__ import annotations

import datetime as dt
import json
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
import time_machine
from django.db import transaction

from threadline.bot.tests.test_bot_whatsapp import graph, inbound  # noqa: F401 - Meta's Graph API fixture
from threadline.channels.email.testkit import make_email_channel, running_sink
from threadline.channels.registry import adapter_for
from threadline.channels.whatsapp.tests.helpers import (
    PHONE_NUMBER_ID,
    WABA_ID,
    make_whatsapp_channel,
    meta_post,
)
from threadline.consent.models import ConsentRecord
from threadline.contacts.models import Contact
from threadline.core.time import now
from threadline.outreach.testkit import campaign, contact, rows

pytestmark = pytest.mark.django_db

TEMPLATES = {"data": [
    {"name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY", "id": "1",
     "components": [{"type": "BODY", "text": "Hello {{1}}, your order {{2}} is delayed."}]},
    {"name": "spring_sale", "language": "en_US", "status": "PENDING", "category": "MARKETING", "id": "2",
     "components": [{"type": "BODY", "text": "Our sale starts today"}]},
], "paging": {"cursors": {"before": "A", "after": "B"}}}
CUSTOMER = "+16505551234"  # the sender of whatsapp/fixtures/text.json


@pytest.fixture
def smtp_sink():
    yield from running_sink()


def test_outside_the_window_the_approved_template_goes_else_the_contact_is_skipped(client, admin, run_jobs,
                                                                                   graph):  # noqa: F811
    graph.route("GET", f"/{WABA_ID}/message_templates", 200, json.dumps(TEMPLATES).encode())
    channel = make_whatsapp_channel(admin, graph.url)
    with transaction.atomic():
        adapter_for("whatsapp").sync_templates(channel)
    meta_post(client, channel, inbound("text.json", 1, text={"body": "Where is my order?"}))
    run_jobs()
    customer = Contact.objects.get()
    sends = f"/{PHONE_NUMBER_ID}/messages"
    # inside the window: free text, on the channel the contact last wrote from (learned)
    inside = campaign(admin, "Hi {{name}}, it ships today.", name="Inside", purpose="transactional")
    run_jobs()
    row = rows(inside)[customer.name]
    assert (row.status, row.channel.kind, row.channel_choice, row.as_template) == ("delivered", "whatsapp",
                                                                                 "learned", False)
    assert graph.calls("POST", sends)[-1].json()["type"] == "text"
    with time_machine.travel(now() + dt.timedelta(hours=25), tick=False):
        bare = campaign(admin, "Our sale starts today", name="No template")
        run_jobs()
        row = rows(bare)[customer.name]
        assert (row.status, row.reason_code) == ("skipped", "no_approved_template")
        assert "24-hour" in row.reason
        pending = campaign(admin, "Sale", name="Pending template", whatsapp_template={"name": "spring_sale"})
        run_jobs()
        assert rows(pending)[customer.name].reason_code == "no_approved_template"  # not approved by WhatsApp
        before = len(graph.calls("POST", sends))
        delayed = campaign(admin, "Hello {{name}}, order {{order}} is delayed.", name="Delay", purpose="transactional",
                           whatsapp_template={"name": "order_update", "language": "en_US"},
                           template_variables=["name", "order"])
        from threadline.outreach.models import OutreachDelivery

        OutreachDelivery.objects.filter(campaign=delayed).update(variables={"order": "A-1001"})
        run_jobs()
        row = rows(delayed)[customer.name]
        assert (row.status, row.as_template) == ("delivered", True)
        assert len(graph.calls("POST", sends)) == before + 1
        body = graph.calls("POST", sends)[-1].json()
        assert body["type"] == "template" and body["to"] == CUSTOMER
        assert (body["template"]["name"], body["template"]["language"]["code"]) == ("order_update", "en_US")
        assert [p["text"] for p in body["template"]["components"][0]["parameters"]] == [customer.name, "A-1001"]


def test_outreach_mail_has_one_click_unsubscribe_that_records_the_withdrawal(client, admin, run_jobs, smtp_sink,
                                                                             settings):
    settings.PUBLIC_URL = "https://support.example.com"
    channel = make_email_channel(admin, relay_url=smtp_sink.url)
    contact(admin, "Dana", email="dana@example.com", language="en")
    sale = campaign(admin, "Hello {{name}}, our spring sale starts today.", subject="Spring sale", purpose="marketing")
    run_jobs()
    assert rows(sale)["Dana"].status == "delivered"
    mail = message_from_bytes(smtp_sink.handler.received[-1].data, policy=policy.default)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    first = str(mail["List-Unsubscribe"]).split(",")[0].strip()
    assert first.startswith("<https://support.example.com/outreach/unsubscribe/") and first.endswith("/>")
    assert mail["Precedence"] == "bulk"
    path = urlsplit(first[1:-1]).path
    assert client.get(path).status_code == 200  # a link scanner's GET changes nothing
    assert not ConsentRecord.objects.exists()
    answer = client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200
    record = ConsentRecord.objects.get()
    assert (record.channel_id, record.address, record.action, record.purpose, record.source) == (
        channel.pk, "dana@example.com", "opt_out", "marketing", "link")
    client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert ConsentRecord.objects.count() == 1  # a second click changes nothing
    assert client.post(path[:-5] + "xxxx/").status_code == 404  # a tampered link
    again = campaign(admin, "Another sale", name="Again", purpose="marketing")
    notice = campaign(admin, "Your invoice is ready", name="Invoice", purpose="transactional")
    run_jobs()
    assert rows(again)["Dana"].reason_code == "opted_out"
    assert rows(notice)["Dana"].status == "delivered"  # a marketing unsubscribe leaves service mail
    service_mail = message_from_bytes(smtp_sink.handler.received[-1].data, policy=policy.default)
    assert service_mail["Precedence"] is None and service_mail["List-Unsubscribe-Post"]
