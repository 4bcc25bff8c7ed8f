"""Outreach's background work: a campaign's (or notification's) recipients are decided in batches."""

from __future__ import annotations

import time

from django.db import transaction

from threadline.core.time import now
from threadline.jobs.registry import task
from threadline.outreach.actions import do_send_batch

TIME_BUDGET = 20.0  # seconds of batches per job; the rest goes to the next job


@task(max_attempts=5)
def send_campaign_task(campaign_id: int) -> int:
    """Decide the campaign's due recipients, batch after batch (each its own transaction), for up to
    TIME_BUDGET seconds; then enqueue itself for what is left: now, or when the earliest hold ends. Safe to
    run twice: a batch takes only rows still pending or held and due."""
    from threadline.outreach.actions import _enqueue

    started, decided = time.monotonic(), 0
    while True:
        with transaction.atomic():
            count, next_due = do_send_batch(campaign_id)
            decided += count
            if next_due is None:
                return decided
            if next_due > now() or time.monotonic() - started > TIME_BUDGET or count == 0:
                _enqueue(campaign_id, next_due)
                return decided
