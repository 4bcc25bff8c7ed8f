"""Background tasks of the conversations domain."""

from __future__ import annotations

from django.db import transaction

from threadline.jobs.registry import task


@task(max_attempts=5)
def send_scheduled_reply_task(scheduled_id: int) -> None:
    """Send a scheduled reply at its time (idempotent: a sent or cancelled one is left alone)."""
    from threadline.conversations.models import ScheduledReply
    from threadline.conversations.scheduling import do_send_scheduled_reply

    with transaction.atomic():
        scheduled = (ScheduledReply.objects.select_for_update(of=("self",)).select_related("conversation", "author__user", "channel")
                     .filter(pk=scheduled_id).first())
        if scheduled is not None:
            do_send_scheduled_reply(scheduled)
