"""The write path's cost per inbound message, counted (not timed): jobs and SQL statements.

Each inbound message used to fan out to one durable job per subscriber, each claiming, re-reading and
committing on its own: 9-13 jobs and 115-200 statements per message (issue 11). The budget below is what the
batched pipeline (docs/adr/0004-event-pipeline.md) needs, with room for a subscriber or two more.
"""

from __future__ import annotations

from collections import Counter

from django.db import connection
from django.test.utils import CaptureQueriesContext

from threadline.channels.models import InboundEvent
from threadline.conversations.models import Message
from threadline.jobs import worker
from threadline.jobs.models import Job
from threadline.testing.factories import make_api_channel, signed_body

MESSAGES, SENDERS = 24, 6
TEXTS = ("Hi, my order #{n} arrived damaged", "שלום, ההזמנה {n} שלי לא הגיעה", "سلام، سفارش {n} من نرسیده",
         "สวัสดีค่ะ คำสั่งซื้อ {n}", "Dobrý den, objednávka {n} nedorazila")


def cost_of_inbound(client, admin, run_jobs) -> tuple[float, float, Counter[str]]:
    """Post MESSAGES signed messages from SENDERS senders, run the worker; jobs and statements per message."""
    channel = make_api_channel(admin)
    before = set(Job.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        for n in range(MESSAGES):
            body, headers = signed_body(channel, {
                "message_id": f"budget-{n}", "text": TEXTS[n % len(TEXTS)].format(n=n),
                "sender": {"kind": "email", "address": f"customer{n % SENDERS}@example.com", "verified": True},
            })
            assert client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json",
                               **headers).status_code == 202
        run_jobs(10_000)
    assert InboundEvent.objects.filter(state="processed").count() == MESSAGES
    assert Message.objects.filter(direction="in").count() == MESSAGES
    jobs = Counter(Job.objects.exclude(pk__in=before).values_list("task", flat=True))
    return sum(jobs.values()) / MESSAGES, len(queries.captured_queries) / MESSAGES, jobs


def test_an_inbound_message_costs_few_jobs_and_statements(client, admin, run_jobs, monkeypatch):
    monkeypatch.setattr(worker, "BATCH_SECONDS", 600)  # batches as large as a claim on a slow machine too
    jobs, statements, by_task = cost_of_inbound(client, admin, run_jobs)
    figures = f"per inbound message: {jobs:.2f} jobs, {statements:.1f} SQL statements; {dict(by_task)}"
    assert jobs <= 4, figures
    assert statements <= 100, figures
