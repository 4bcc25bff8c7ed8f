"""Which channels can reach a conversation's contact right now, and why not when they cannot (docs/architecture.md).

The composer and the API show this list before an agent writes: a channel is reachable when the contact
has an identity it can address and the channel's own rules (`check_send`: reply windows, consent) allow a
free-text reply; a channel that only allows a template says so with `template_required`. Adapters may add
`send_hints(conversation, identity, channel, text=...)` details (SMS segment count, window end, templates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from threadline.channels.models import Channel
from threadline.channels.registry import ADAPTERS, adapter_for
from threadline.conversations.actions import check_send_allowed, last_inbound_identities, reply_target
from threadline.conversations.models import Conversation
from threadline.core.errors import ValidationFailed


@dataclass(frozen=True)
class Reachability:
    channel_id: int
    kind: str
    name: str
    reachable: bool
    code: str = ""  # why not: no_identity, cannot_deliver, outside_reply_window, no_consent, template_required...
    reason: str = ""
    address: str = ""
    is_default: bool = False  # the channel a reply goes to unless the agent picks another
    details: dict[str, Any] = field(default_factory=dict)


def reachable_channels(conversation: Conversation, *, text: str = "",
                       channels: list[Channel] | None = None) -> list[Reachability]:
    """Every active channel of the workspace, reachable or not, with the reason; the default one first.
    `channels`: the workspace's channels when the caller has read them already (the conversation screen)."""
    default = conversation.last_inbound_channel_id or conversation.origin_channel_id
    if channels is None:
        channels = list(Channel.objects.filter(workspace_id=conversation.workspace_id, is_active=True,
                                               kind__in=list(ADAPTERS)))
    result: list[Reachability] = []
    usable = [c for c in channels if c.workspace_id == conversation.workspace_id and c.is_active and c.kind in ADAPTERS]
    # one statement for the customer's last identity on every channel, one for their identities (prefetched
    # with the conversation's summary), instead of one or two per channel
    last_inbound = last_inbound_identities(conversation, [c.pk for c in usable]) if usable else {}
    identities = list(conversation.contact.identities.all()) if conversation.contact_id else []
    for channel in sorted(usable, key=lambda c: c.pk):
        adapter = adapter_for(channel.kind)
        try:
            _channel, identity = reply_target(conversation, channel, last_inbound=last_inbound,
                                              identities=identities)
        except ValidationFailed as exc:
            result.append(Reachability(channel.pk, channel.kind, channel.name, False, exc.code, exc.message,
                                       is_default=channel.pk == default))
            continue
        blocked = getattr(adapter, "cannot_deliver", None)
        problem = blocked(channel) if blocked is not None else ""
        if problem:
            result.append(Reachability(channel.pk, channel.kind, channel.name, False, "cannot_deliver", problem,
                                       identity.address, channel.pk == default))
            continue
        details: dict[str, Any] = {}
        hints = getattr(adapter, "send_hints", None)
        if hints is not None:
            details = hints(conversation, identity, channel, text=text)
        code, reason = "", ""
        try:
            check_send_allowed(conversation, identity, channel)
        except ValidationFailed as exc:
            code, reason = exc.code, exc.message
        result.append(Reachability(channel.pk, channel.kind, channel.name, not code, code, reason,
                                   identity.address, channel.pk == default, details))
    result.sort(key=lambda r: (not r.is_default, not r.reachable, r.channel_id))
    return result
