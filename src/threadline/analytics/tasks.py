"""The periodic refresh of stale facts (the scheduler enqueues it every minute: one job, whatever the
traffic)."""

from __future__ import annotations

from threadline.analytics.refresh import BATCH, refresh_stale
from threadline.jobs.registry import task

ROUNDS = 20  # at most 10,000 conversations per run; the rest waits for the next minute


@task(max_attempts=3)
def refresh_facts_task() -> int:
    done = 0
    for _round in range(ROUNDS):
        count = refresh_stale(BATCH)
        done += count
        if count < BATCH:
            break
    return done


@task(max_attempts=1)
def evaluate_alerts_task() -> int:
    """Every enabled alert rule, every 5 minutes (jobs.scheduler.PERIODIC)."""
    from threadline.analytics.actions import evaluate_alerts

    return evaluate_alerts()["checked"]


@task(max_attempts=1)
def send_due_reports_task() -> int:
    """Scheduled email reports whose slot has come (jobs.scheduler.PERIODIC, every 5 minutes)."""
    from threadline.analytics.actions import send_due_reports

    return send_due_reports()
