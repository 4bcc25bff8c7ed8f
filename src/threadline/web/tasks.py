from __future__ import annotations

from django.db import transaction

from threadline.jobs.registry import task


@task(max_attempts=5)
def unsnooze_task(conversation_id: int, stamp: str) -> None:
    """Wake a snoozed conversation at its time (idempotent: a changed or re-snoozed one is left alone)."""
    from threadline.conversations.models import Conversation
    from threadline.web.actions import do_wake

    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
        if conversation is not None and not conversation.merged_into_id:
            do_wake(conversation, stamp)
