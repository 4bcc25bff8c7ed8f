"""Housekeeping of the job table itself."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from threadline.core.time import now
from threadline.jobs.models import Job
from threadline.jobs.registry import task

KEEP_DONE = dt.timedelta(days=7)


@task(max_attempts=3)
def prune_finished_jobs_task() -> int:
    """Delete finished jobs older than a week; dead letters stay until an admin removes them."""
    with transaction.atomic():
        deleted, _ = Job.objects.filter(state=Job.State.DONE, finished_at__lt=now() - KEEP_DONE).delete()
    return deleted
