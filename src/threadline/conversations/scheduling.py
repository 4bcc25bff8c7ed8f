"""Send later: an agent's reply stored with the moment it should go, sent by the job queue then (as that
agent, on the chosen channel or the customer's latest), or cancelled before. The caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from threadline.channels.models import Channel
from threadline.conversations.actions import check_text, do_send_reply, record_event, reply_target
from threadline.conversations.models import Conversation, ScheduledReply
from threadline.core.errors import Conflict, ThreadlineError, ValidationFailed
from threadline.core.time import now
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

MAX_AHEAD = dt.timedelta(days=365)


def check_send_at(send_at: dt.datetime) -> dt.datetime:
    if send_at.tzinfo is None:
        raise ValidationFailed(_("The time needs a time zone."), code="invalid_time", field="send_at")
    if send_at <= now() or send_at - now() > MAX_AHEAD:
        raise ValidationFailed(_("Send at a time in the coming year."), code="invalid_time", field="send_at")
    return send_at


def do_schedule_reply(actor: Membership, conversation: Conversation, text: str, send_at: dt.datetime, *,
                      channel: Channel | None = None) -> ScheduledReply:
    """Store the reply and enqueue its sending at `send_at`; the channel must be able to reach the customer
    now (its rules are checked again when it goes)."""
    from threadline.conversations.tasks import send_scheduled_reply_task

    require(actor, Permission.REPLY)
    text = check_text(text)
    send_at = check_send_at(send_at)
    reply_target(conversation, channel)
    scheduled = ScheduledReply.objects.create(workspace_id=conversation.workspace_id, conversation=conversation,
                                              author=actor, channel=channel, text=text, send_at=send_at)
    send_scheduled_reply_task.enqueue(scheduled.pk, run_after=send_at, unique_key=f"scheduled-reply:{scheduled.pk}")
    record_event(conversation, "reply_scheduled", actor=actor, scheduled_id=scheduled.pk, send_at=send_at.isoformat())
    return scheduled


def do_cancel_scheduled_reply(actor: Membership, scheduled: ScheduledReply) -> ScheduledReply:
    require(actor, Permission.REPLY)
    if scheduled.state != ScheduledReply.State.SCHEDULED:
        raise Conflict(_("This reply has already gone or was cancelled."), code="not_scheduled")
    scheduled.state = ScheduledReply.State.CANCELLED
    scheduled.save(update_fields=["state", "updated_at"])
    record_event(scheduled.conversation, "scheduled_reply_cancelled", actor=actor, scheduled_id=scheduled.pk)
    return scheduled


def do_send_scheduled_reply(scheduled: ScheduledReply) -> ScheduledReply:
    """Send it now if it is still scheduled and due; a refusal (the channel's rules, the author's role)
    marks it failed with the reason instead of retrying forever."""
    if scheduled.state != ScheduledReply.State.SCHEDULED or scheduled.send_at > now():
        return scheduled
    try:
        message = do_send_reply(scheduled.author, scheduled.conversation, scheduled.text, channel=scheduled.channel)
    except ThreadlineError as exc:
        scheduled.state, scheduled.reason = ScheduledReply.State.FAILED, exc.message[:2000]
        scheduled.save(update_fields=["state", "reason", "updated_at"])
        record_event(scheduled.conversation, "scheduled_reply_failed", scheduled_id=scheduled.pk, reason=exc.message)
        return scheduled
    scheduled.state, scheduled.message = ScheduledReply.State.SENT, message
    scheduled.save(update_fields=["state", "message", "updated_at"])
    return scheduled
