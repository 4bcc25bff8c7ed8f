"""Bringing the facts up to date: the stale conversations (marked by the subscriber) and, from scratch, the
whole of a workspace (`threadline analytics rebuild`)."""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q

from threadline.analytics import occupancy, rollups
from threadline.analytics.facts import local_day, recompute_conversations, recompute_day, zone_in, zone_of
from threadline.analytics.models import (
    AgentDayFact,
    BotOutcome,
    ChannelDayFact,
    ConversationFact,
    StaleConversation,
    StaleDay,
)
from threadline.analytics.subscribers import BOT_OUTCOMES
from threadline.conversations.models import Conversation
from threadline.core.row_writes import insert_rows
from threadline.core.time import now
from threadline.events.models import OutboxEvent

BATCH = 500
# Conversations per transaction: how long the refresh holds SQLite's write turn at a time (about 1 ms each),
# so the acknowledgements of webhooks waiting behind it (the worker runs it behind the requests) wait that
# long, not for the whole minute's refresh (issue 11: 200 conversations in one transaction took 130-350 ms).
CHUNK = 25


def refresh_stale(limit: int = BATCH) -> int:
    """Recompute up to `limit` stale conversations, then the days they touched (and the days of presence
    changes since the last run) and their rollups; how many conversations.

    In short transactions: each of at most CHUNK conversations marks the days it made stale (`StaleDay`) as
    it deletes their conversations' marks, then each day is recomputed in a transaction of its own that
    deletes its mark. A conversation (or day) marked again while this ran keeps its newer mark and is
    recomputed next time."""
    with transaction.atomic():
        mark_days(occupancy.stale_days({}, zone_of), StaleDay.ACTIVITY)
    done = 0
    while done < limit:
        count = _refresh_conversations(min(CHUNK, limit - done))
        done += count
        if count < CHUNK:
            break
    _refresh_days()
    return done


def _refresh_conversations(limit: int) -> int:
    with transaction.atomic():
        marks = list(StaleConversation.objects.order_by("marked_at")[:limit].values_list("conversation_id",
                                                                                          "marked_at"))
        if not marks:
            return 0
        days, created = recompute_conversations(pk for pk, _at in marks)
        mark_days(days, StaleDay.ACTIVITY)
        mark_days(created, StaleDay.ROLLUP)
        StaleConversation.objects.filter(functools.reduce(operator.or_, (
            Q(conversation_id=pk, marked_at__lte=marked_at) for pk, marked_at in marks))).delete()
    return len(marks)


def _refresh_days() -> None:
    """Each stale day in a transaction of its own: the day facts, then the day rollups (which mark their
    months), then the month rollups."""
    zones: dict[int, ZoneInfo] = {}
    for kind in (StaleDay.ACTIVITY, StaleDay.ROLLUP, StaleDay.MONTH):
        for pk, workspace_id, day, marked_at in list(StaleDay.objects.filter(kind=kind).order_by(
                "workspace_id", "day").values_list("pk", "workspace_id", "day", "marked_at")):
            with transaction.atomic():
                if kind == StaleDay.ACTIVITY:
                    recompute_day(workspace_id, day, zone_in(zones, workspace_id))
                elif kind == StaleDay.ROLLUP:
                    rollups.rollup_day(workspace_id, day)
                    mark_days([(workspace_id, day.replace(day=1))], StaleDay.MONTH)
                else:
                    rollups.rollup_month(workspace_id, day)
                StaleDay.objects.filter(pk=pk, marked_at__lte=marked_at).delete()


def mark_days(days: Iterable[tuple[int, dt.date]], kind: str) -> None:
    """Mark these (workspace, local day) pairs stale for the refresh (again: `marked_at` moves on)."""
    moment = now()
    insert_rows([StaleDay(workspace_id=workspace_id, day=day, kind=kind, marked_at=moment)
                 for workspace_id, day in sorted(set(days))],
                conflicts="update", unique_fields=["workspace", "day", "kind"], update_fields=["marked_at"])


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
    StaleDay.objects.filter(workspace_id=workspace_id, marked_at__lte=now()).delete()
    return {"conversations": len(ids), "days": days}
