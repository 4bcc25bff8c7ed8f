"""Housekeeping: the job table itself, and the database's planner statistics."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

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


# Rows each index is sampled over: SQLite's ANALYZE then costs ~0.1 s on a 2 GB database instead of reading it.
ANALYSIS_LIMIT = 1000


@task(max_attempts=1)
def refresh_statistics_task() -> bool:
    """Refresh SQLite's planner statistics (`sqlite_stat1`), sampled.

    Without them SQLite guesses, and at a million conversations some of its guesses read every message
    (a reply target took seconds: an index on the workspace chosen over the conversation's). Nothing runs
    ANALYZE in an embedded installation otherwise. PostgreSQL's autovacuum keeps its own statistics.
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        cursor.execute("ANALYZE")
    return True
