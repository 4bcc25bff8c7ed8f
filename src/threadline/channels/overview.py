"""Reads for the channels administration screen: each channel with its open conversations and the inbound
payloads that need attention (two grouped queries for the whole list), and what disabling one does.

A conversation belongs to the channel its customer last wrote on (`last_inbound_channel`, else the channel it
started on): that is where a reply goes unless the agent picks another (`conversations.actions.reply_target`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import Coalesce

from threadline.channels.models import Channel, Delivery, InboundEvent
from threadline.channels.queries import list_channels, needs_attention
from threadline.channels.registry import ADAPTERS, adapter_for
from threadline.contacts.models import ContactIdentity
from threadline.conversations.models import ACTIVE_STATUSES, Conversation
from threadline.tenancy.models import Membership


@dataclass(frozen=True)
class ChannelRow:
    channel: Channel
    open_conversations: int
    needs_attention: int


def _open_conversations(workspace_id: int) -> Q:
    return Q(workspace_id=workspace_id, status__in=ACTIVE_STATUSES)


def channel_rows(actor: Membership) -> list[ChannelRow]:
    channels = list(list_channels(actor).order_by("kind", "name", "id"))
    open_counts = dict(
        Conversation.objects.filter(_open_conversations(actor.workspace_id))
        .annotate(reply_channel=Coalesce("last_inbound_channel_id", "origin_channel_id"))
        .values("reply_channel").annotate(n=Count("id")).values_list("reply_channel", "n")
    )
    attention = dict(
        InboundEvent.objects.filter(workspace_id=actor.workspace_id).filter(needs_attention())
        .values("channel_id").annotate(n=Count("id")).values_list("channel_id", "n")
    )
    return [ChannelRow(c, open_counts.get(c.pk, 0), attention.get(c.pk, 0)) for c in channels]


def open_conversations_of(channel: Channel):  # noqa: ANN201 - a QuerySet[Conversation]
    return Conversation.objects.filter(_open_conversations(channel.workspace_id)).filter(
        Q(last_inbound_channel=channel) | Q(last_inbound_channel__isnull=True, origin_channel=channel)
    )


@dataclass(frozen=True)
class DisableEffects:
    open_conversations: int
    reachable_elsewhere: int  # of those, conversations whose contact another active channel can address
    queued_replies: int  # replies accepted but not yet handed to the provider: they are still sent


def disable_effects(channel: Channel) -> DisableEffects:
    """What disabling `channel` does to its open conversations (see docs/admin.md, Channels)."""
    conversations = open_conversations_of(channel)
    other_kinds = {
        adapter_for(kind).identity_kind
        for kind in Channel.objects.filter(workspace_id=channel.workspace_id, is_active=True, kind__in=list(ADAPTERS))
        .exclude(pk=channel.pk).values_list("kind", flat=True).distinct()
    }
    reachable = conversations.filter(
        contact_id__in=ContactIdentity.objects.filter(workspace_id=channel.workspace_id, kind__in=other_kinds)
        .values("contact_id")
    ).count() if other_kinds else 0
    queued = Delivery.objects.filter(channel=channel, state=Delivery.State.PENDING).count()
    return DisableEffects(conversations.count(), reachable, queued)
