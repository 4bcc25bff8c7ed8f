"""A campaign to more recipients than one batch decides (thousands in bench/outreach.py) completes through the job queue in batches and reports every recipient: delivered
by SMS (Twilio's Messages API on loopback), failed where Twilio refuses the number (its documented 21610 error),
skipped where the contact opted out (STOP in the consent ledger) or has no reachable address."""

from __future__ import annotations

import os
import time

import pytest
from django.db import transaction

from threadline.channels.sms.tests.helpers import PUBLIC_URL, fixture, make_twilio_channel
from threadline.consent.models import ConsentRecord
from threadline.contacts.identities import match_key
from threadline.contacts.models import Contact, ContactIdentity
from threadline.outreach.actions import BATCH
from threadline.outreach.models import Campaign, OutreachDelivery
from threadline.outreach.queries import report
from threadline.outreach.testkit import MESSAGES_PATH, campaign, twilio_provider
from threadline.outreach.testkit import settings as save_settings

# Outside a test's transaction, as in the worker: a batch's requests go out concurrently (`channels.outbound`).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# In the suite a full batch and part of a second (BATCH + 100: ~5 s on a quiet 2-core machine since the fake
# provider answers without Nagle's 40 ms per send, testing/serving.py; 29 s before); the 10,000 of issue 15's
# acceptance is `bench/outreach.py`, which runs this test with THREADLINE_OUTREACH_SCALE=10000.
TOTAL = int(os.environ.get("THREADLINE_OUTREACH_SCALE", str(BATCH + 100)))
LATENCY = float(os.environ.get("THREADLINE_OUTREACH_LATENCY_MS", "0")) / 1000  # the fake provider's, per request
REFUSED_EVERY, STOPPED_EVERY, NO_ADDRESS_EVERY = 13, 7, 10  # ~7 %, ~13 %, 10 % of the recipients


def phone(i: int) -> str:
    return f"+1415{i + 2000000:07d}"


def seed(admin, channel) -> tuple[set[str], int, int]:
    """TOTAL contacts, most with a phone number; some refused by Twilio, some opted out, some without one."""
    contacts = Contact.objects.bulk_create([Contact(workspace_id=admin.workspace_id, name=f"Customer {i}",
                                                    language="en") for i in range(TOTAL)], batch_size=1000)
    identities, stops, refused = [], [], set()
    for i, found in enumerate(contacts):
        if i % NO_ADDRESS_EVERY == 0:
            continue
        identities.append(ContactIdentity(workspace_id=admin.workspace_id, contact=found, kind="phone",
                                          address=phone(i), match_key=match_key("phone", phone(i))))
        if i % STOPPED_EVERY == 0:
            stops.append(ConsentRecord(workspace_id=admin.workspace_id, channel=channel, identity_kind="phone",
                                       address=phone(i), action="opt_out", keyword="stop"))
        elif i % REFUSED_EVERY == 0:
            refused.add(phone(i))
    ContactIdentity.objects.bulk_create(identities, batch_size=1000)
    ConsentRecord.objects.bulk_create(stops, batch_size=1000)
    return refused, len(stops), TOTAL - len(identities)


def test_a_campaign_larger_than_a_batch_completes_with_a_report(admin, run_jobs, settings):
    settings.PUBLIC_URL = PUBLIC_URL
    refused: set[str] = set()
    provider = twilio_provider(fixture("send_response.json"), refuse=refused,
                               refusal=fixture("send_error_21610.json"), latency=LATENCY)
    try:
        channel = make_twilio_channel(admin, api_base_url=provider.url)
        save_settings(admin, rate_limits={"sms": 100_000})
        with transaction.atomic():
            found, stopped, no_address = seed(admin, channel)
        refused.update(found)
        started = time.monotonic()
        made = campaign(admin, "Hello {{name}}, our service window changes on Monday.", purpose="transactional")
        ran = run_jobs(max_jobs=200_000)
        elapsed = time.monotonic() - started
    finally:
        provider.stop()
    summary = report(Campaign.objects.get(pk=made.pk))
    sent = TOTAL - stopped - no_address
    print(f"\n{TOTAL} recipients ({LATENCY * 1000:.0f} ms per provider request): {elapsed:.1f} s, "  # noqa: T201
          f"{ran} jobs, {TOTAL / elapsed:.0f} recipients/s; {summary}")
    assert Campaign.objects.get(pk=made.pk).state == "done"
    assert summary["recipients"] == TOTAL
    assert summary["by_status"] == {"pending": 0, "held": 0, "queued": 0, "delivered": sent - len(refused),
                                    "failed": len(refused), "skipped": stopped + no_address}
    assert {(r["status"], r["code"]): r["count"] for r in summary["reasons"]} == {
        ("skipped", "opted_out"): stopped, ("skipped", "no_reachable_channel"): no_address,
        ("failed", "delivery_failed"): len(refused)}
    assert len(provider.calls("POST", MESSAGES_PATH)) == sent
    assert OutreachDelivery.objects.filter(campaign=made, status="failed", reason__contains="21610").count() \
        == len(refused) or OutreachDelivery.objects.filter(campaign=made, status="failed",
                                                            reason__icontains="unsubscribed").count() == len(refused)
