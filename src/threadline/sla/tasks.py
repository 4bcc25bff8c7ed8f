"""Durable SLA jobs: one per warning and deadline instant, and a sweep as the safety net."""

from __future__ import annotations

from django.db import transaction

from threadline.core.time import now
from threadline.jobs.registry import task
from threadline.sla.actions import do_check_timer, overdue_timers
from threadline.sla.models import SlaTimer

SWEEP_BATCH = 500


@task(max_attempts=10)
def sla_timer_task(timer_id: int) -> None:
    """Record the warning or breach of one timer if it is due now; a stale job (timer moved) does nothing."""
    with transaction.atomic():
        timer = (SlaTimer.objects.select_for_update(of=("self",)).select_related("policy", "conversation")
                 .filter(pk=timer_id).first())
        if timer is not None:
            do_check_timer(timer, now())


@task(max_attempts=3)
def sla_sweep_task() -> None:
    """Catch any warning or breach whose job was lost (a restore, a clock jump): idempotent with the jobs."""
    moment = now()
    for timer_id in list(overdue_timers(moment).order_by("due_at").values_list("id", flat=True)[:SWEEP_BATCH]):
        sla_timer_task.func(timer_id)
