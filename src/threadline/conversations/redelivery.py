"""What an agent can do about a reply that failed: try the same channel again (the delivery is queued anew,
same message) or send a copy on another channel (a new message; the failed one remembers it as
`metadata["resent_as"]`, so the inbox stops marking the conversation). The caller owns the transaction."""

from __future__ import annotations

from django.utils.translation import gettext as _

from threadline.channels.models import Channel, Delivery
from threadline.conversations.actions import do_send_reply, record_event
from threadline.conversations.events import MessageStatusChanged
from threadline.conversations.models import DeliveryStatus, Direction, Message
from threadline.core.errors import Conflict
from threadline.events.bus import publish
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def check_failed_reply(message: Message) -> Message:
    if message.direction != Direction.OUTBOUND or message.is_note or message.status != DeliveryStatus.FAILED:
        raise Conflict(_("Only a reply that failed can be sent again."), code="not_failed")
    if (message.metadata or {}).get("resent_as"):
        raise Conflict(_("This reply was already sent again on another channel."), code="already_resent")
    return message


def do_retry_delivery(actor: Membership, message: Message) -> Message:
    """Queue the failed reply's delivery again on its channel, from a fresh count of attempts."""
    from threadline.channels.outbound import deliver_message_task

    require(actor, Permission.REPLY)
    check_failed_reply(message)
    delivery = Delivery.objects.filter(message=message).first()
    if delivery is None:
        delivery = Delivery(workspace_id=message.workspace_id, message=message, channel_id=message.channel_id)
    retries = int((message.metadata or {}).get("retries", 0)) + 1
    delivery.state, delivery.attempts, delivery.last_error, delivery.next_attempt_at = Delivery.State.PENDING, 0, "", None
    delivery.save()
    message.status, message.status_reason = DeliveryStatus.QUEUED, ""
    message.metadata = {**(message.metadata or {}), "retries": retries}
    message.save(update_fields=["status", "status_reason", "metadata", "updated_at"])
    deliver_message_task.enqueue(message.pk, unique_key=f"deliver:{message.pk}:retry:{retries}")
    record_event(message.conversation, "reply_retried", actor=actor, message_id=message.pk)
    publish(MessageStatusChanged(workspace_id=message.workspace_id, message_id=message.pk,
                                 conversation_id=message.conversation_id, status=message.status, reason=""))
    return message


def do_resend_on_channel(actor: Membership, message: Message, channel: Channel) -> Message:
    """A copy of the failed reply (text and files) on `channel`, under that channel's rules."""
    require(actor, Permission.REPLY)
    check_failed_reply(message)
    if channel.pk == message.channel_id:
        raise Conflict(_("Choose another channel, or retry this one."), code="same_channel")
    files = []
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            files.append((attachment.filename, attachment.content_type, handle.read()))
    copy = do_send_reply(actor, message.conversation, message.text, channel=channel, html=message.html,
                         attachments=files)
    message.metadata = {**(message.metadata or {}), "resent_as": copy.pk}
    message.save(update_fields=["metadata", "updated_at"])
    record_event(message.conversation, "reply_resent", actor=actor, message_id=message.pk, copy_id=copy.pk,
                 channel_id=channel.pk)
    return copy
