"""Background work of the bot: deciding an outcome once its window has passed."""

from __future__ import annotations

from django.db import transaction

from threadline.core.errors import ValidationFailed
from threadline.jobs.registry import task


@task(max_attempts=5)
def check_session_task(session_id: int) -> None:
    from threadline.bot.actions import do_check_session

    with transaction.atomic():
        do_check_session(session_id)


@task(max_attempts=3)
def external_turn_task(session_id: int, message_id: int, choice: str = "") -> None:
    """One turn of an external bot platform: the call outside any transaction, then its answer posted (a
    platform that fails or cannot be reached hands the conversation over, the customer is never left alone)."""
    import logging

    from threadline.bot.actions import do_apply_external_turn, external_request
    from threadline.botplatforms import registry
    from threadline.botplatforms.base import BotPlatformError

    request = external_request(session_id, message_id, choice)
    if request is None:
        return
    try:
        turn = registry.get(request["kind"]).converse(request["config"], request["session_id"], request["text"],
                                                      request["language"], request["choice"], state=request["state"])
    except (BotPlatformError, ValidationFailed) as exc:
        logging.getLogger(__name__).warning("bot platform %s failed for session %s: %s", request["kind"],
                                            session_id, exc)
        turn = None
    with transaction.atomic():
        do_apply_external_turn(session_id, request, turn)
