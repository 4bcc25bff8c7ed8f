"""Reply windows measured from the customer's last message on a channel (WhatsApp 24 h, Messenger 24 h/7 d,
WeChat 48 h): reads only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from threadline.channels.models import Channel
from threadline.core.errors import ValidationFailed
from threadline.core.time import now


def last_customer_message_at(channel: Channel, address: str, identity_kind: str) -> dt.datetime | None:
    """When the customer at `address` last wrote on `channel` (receipt time, or the provider's if later)."""
    from threadline.conversations.models import Message

    last = (Message.objects.filter(channel=channel, direction="in", identity__kind=identity_kind,
                                   identity__address=address)
            .order_by("-created_at", "-id").values_list("created_at", "sent_at").first())
    if last is None:
        return None
    return max(x for x in last if x is not None)


def check_window(channel: Channel, identity: Any, window: dt.timedelta, message: str, *, field: str) -> None:
    """Refuse (`outside_reply_window`) unless the customer wrote on `channel` within `window`; `message` is the
    translated reason, with `%(when)s` for the customer's last message."""
    last = last_customer_message_at(channel, identity.address, identity.kind)
    if last is None or now() - last > window:
        when = last.isoformat(timespec="minutes") if last else _("never")
        raise ValidationFailed(message % {"when": when}, code="outside_reply_window", field=field)
