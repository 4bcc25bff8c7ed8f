"""Bringing the facts up to date: the stale conversations (marked by the subscriber) and, from scratch, the
whole of a workspace (`threadline analytics rebuild`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.db import transaction

from threadline.analytics import occupancy, rollups
from threadline.analytics.facts import local_day, recompute_conversations, recompute_day, zone_of
from threadline.analytics.models import (
    AgentDayFact,
    BotOutcome,
    ChannelDayFact,
    ConversationFact,
    StaleConversation,
)
from threadline.analytics.subscribers import BOT_OUTCOMES
from threadline.conversations.models import Conversation
from threadline.core.time import now
from threadline.events.models import OutboxEvent

BATCH = 500


def refresh_stale(limit: int = BATCH) -> int:
    """Recompute up to `limit` stale conversations and the days they touched (and the days of presence changes
    since the last run), in one transaction; how many conversations.
    A conversation marked again while this ran keeps its (newer) mark and is recomputed next time."""
    with transaction.atomic():
        marks = list(StaleConversation.objects.order_by("marked_at")[:limit].values_list("conversation_id",
                                                                                          "marked_at"))
        zones: dict[int, ZoneInfo] = {}
        presence_days = occupancy.stale_days(zones, zone_of)
        if not marks and not presence_days:
            return 0
        days, created = recompute_conversations(pk for pk, _at in marks) if marks else (set(), set())
        for workspace_id, day in sorted(days | presence_days):
            recompute_day(workspace_id, day, zones.get(workspace_id))
        rollups.refresh_days(created)
        for pk, marked_at in marks:
            StaleConversation.objects.filter(conversation_id=pk, marked_at__lte=marked_at).delete()
    return len(marks)


def rebuild(workspace_id: int, *, chunk: int = BATCH, report: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Every fact of a workspace again from its rows: bot outcomes from the outbox, conversations in chunks
    of `chunk`, then every day from the first conversation (or presence change) to today, then the rollups."""
    with transaction.atomic():
        BotOutcome.objects.filter(workspace_id=workspace_id).delete()
        latest: dict[int, tuple[str, int]] = {}
        for pk, kind, payload in OutboxEvent.objects.filter(workspace_id=workspace_id, type__in=list(BOT_OUTCOMES)) \
                .order_by("id").values_list("pk", "type", "payload").iterator():
            if payload.get("conversation_id"):
                latest[int(payload["conversation_id"])] = (BOT_OUTCOMES[kind], pk)
        existing = set(Conversation.objects.filter(pk__in=list(latest)).values_list("pk", flat=True))
        BotOutcome.objects.bulk_create([
            BotOutcome(conversation_id=cid, workspace_id=workspace_id, outcome=outcome, outbox_id=outbox_id)
            for cid, (outcome, outbox_id) in latest.items() if cid in existing])
        ConversationFact.objects.filter(workspace_id=workspace_id).delete()
        AgentDayFact.objects.filter(workspace_id=workspace_id).delete()
        ChannelDayFact.objects.filter(workspace_id=workspace_id).delete()
    ids = list(Conversation.objects.filter(workspace_id=workspace_id, merged_into__isnull=True)
               .order_by("contact_id", "id").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        with transaction.atomic():
            recompute_conversations(ids[start:start + chunk])
        if report:
            report("conversations", min(start + chunk, len(ids)))
    zone = zone_of(workspace_id)
    first = min((moment for moment in (
        Conversation.objects.filter(workspace_id=workspace_id).order_by("created_at").values_list(
            "created_at", flat=True).first(),
        occupancy.PresenceInterval.objects.filter(workspace_id=workspace_id).order_by("started_at").values_list(
            "started_at", flat=True).first()) if moment is not None), default=None)
    days = 0
    if first is not None:
        day, last = local_day(first, zone), local_day(now(), zone)
        while day <= last:
            with transaction.atomic():
                recompute_day(workspace_id, day, zone)
            day += dt.timedelta(days=1)
            days += 1
        if report:
            report("days", days)
    with transaction.atomic():
        rolled = rollups.rebuild(workspace_id)
    if report:
        report("rollup days", rolled)
    StaleConversation.objects.filter(workspace_id=workspace_id, marked_at__lte=now()).delete()
    return {"conversations": len(ids), "days": days}
