"""The bulk path's cost per recipient, counted (not timed): jobs and SQL statements from `send` to the
provider's answer recorded on every row. A campaign used to cost what an agent's reply costs per message — a
delivery job and a dispatch job for each of `conversation.created`, `message.created` and
`message.status_changed` (measured here: 3.62 jobs and 61.9 statements per recipient, issue 11). Recipients are
now decided, stored, published and delivered in batches, the status events' subscribers run in the delivery's
own transaction, consent is read once per batch: 0.08 jobs and 28.3 statements (SQLite; PostgreSQL within the budget).
The budgets hold those counts with a little room, so a change that adds a job or a query per recipient fails here and says what it costs."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from threadline.channels.sms.tests.helpers import make_twilio_channel
from threadline.consent.models import ConsentRecord
from threadline.conversations.models import Message
from threadline.jobs.models import Job
from threadline.outreach.models import OutreachDelivery
from threadline.outreach.testkit import MESSAGES_PATH, campaign, contact, settings

pytestmark = pytest.mark.django_db

RECIPIENTS = 60  # 6 of them opted out (STOP): decided and skipped, never sent


def test_a_campaign_costs_a_fraction_of_a_job_and_few_statements_per_recipient(admin, run_jobs, twilio):
    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    settings(admin, rate_limits={"sms": 100_000})
    for i in range(RECIPIENTS):
        contact(admin, f"Customer {i}", phone=f"+1415555{i:04d}", language="en")
    ConsentRecord.objects.bulk_create([ConsentRecord(workspace_id=admin.workspace_id, channel=channel,
                                                     identity_kind="phone", address=f"+1415555{i:04d}",
                                                     action="opt_out", keyword="stop")
                                       for i in range(0, RECIPIENTS, 10)])
    run_jobs(10_000)  # the contacts' own events (search, analytics) are not the campaign's cost
    before = set(Job.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        made = campaign(admin, "Hello {{name}}, our service window changes on Monday.", purpose="transactional")
        run_jobs(10_000)
    statuses = Counter(OutreachDelivery.objects.filter(campaign=made).values_list("status", flat=True))
    assert statuses == {"delivered": RECIPIENTS - 6, "skipped": 6}
    assert len(twilio.calls("POST", MESSAGES_PATH)) == RECIPIENTS - 6
    assert Message.objects.filter(direction="out", status="sent").count() == RECIPIENTS - 6
    jobs = Counter(Job.objects.exclude(pk__in=before).values_list("task", flat=True))
    per_job, statements = sum(jobs.values()) / RECIPIENTS, len(queries.captured_queries) / RECIPIENTS
    figures = f"per recipient: {per_job:.2f} jobs, {statements:.1f} SQL statements; {dict(jobs)}"
    print(figures)  # noqa: T201

    assert per_job <= 0.1, figures  # 3.62 before (a delivery job and three dispatch jobs per message sent)
    assert statements <= 29.5, figures  # 61.9 before; 30.1 before consent was read once per batch
