"""Provider calls of the public reply workflow: one job per action (public reply, hide, show, delete), run
after the action's transaction committed; passing errors retried with backoff, others shown on the action."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from threadline.channels.base import ChannelError, RateLimited, TransientSendError
from threadline.channels.registry import adapter_for
from threadline.jobs.registry import Retry, task
from threadline.social.actions import record_outcome
from threadline.social.models import ActionKind, ActionState, PublicAction

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 6


def _call(action: PublicAction) -> str:
    item, channel = action.item, action.item.channel
    adapter = adapter_for(channel.kind)
    if action.kind == ActionKind.REPLY_PUBLIC:
        return adapter.public_reply(channel, item.external_id, action.text, kind=item.kind, source=item.source,
                                    parent_id=item.parent_external_id, root_id=item.root_external_id)
    if action.kind in (ActionKind.HIDE, ActionKind.UNHIDE):
        adapter.hide_public(channel, item.external_id, action.kind == ActionKind.HIDE)
    elif action.kind == ActionKind.DELETE:
        adapter.delete_public(channel, item.external_id)
    return ""


@task(max_attempts=MAX_ATTEMPTS + 1)
def perform_action_task(action_id: int) -> None:
    """Carry out one queued public action at the provider; safe to run again (a done action is left alone)."""
    action = PublicAction.objects.select_related("item__channel", "author").filter(pk=action_id).first()
    if action is None or action.state != ActionState.QUEUED:
        return
    action.attempts += 1
    PublicAction.objects.filter(pk=action.pk).update(attempts=action.attempts)
    try:
        provider_id = _call(action)
    except TransientSendError as exc:
        if action.attempts >= MAX_ATTEMPTS:
            with transaction.atomic():
                record_outcome(action, error=_("Gave up after %(n)d attempts: %(e)s") % {"n": action.attempts, "e": exc})
            return
        raise Retry(str(exc), after=exc.retry_after if isinstance(exc, RateLimited) else None) from exc
    except (ChannelError, AttributeError) as exc:  # refused by the provider, or the channel cannot do it
        with transaction.atomic():
            record_outcome(action, error=str(exc) or type(exc).__name__)
        return
    with transaction.atomic():
        record_outcome(action, provider_id=provider_id)
