"""Agents' time online and occupancy for the agent-day facts (docs/analytics.md, "Occupancy").

online = the agent's routing.PresenceInterval rows with status online, clipped to the local day (an interval
still open counts until the computation). busy = the part of it during which at least one conversation
assigned to the agent was open (begun and not resolved: the same transitions as the conversation facts), the
assignee over time taken from the timeline's `assigned` rows (before the first one: its `old`, and with none
at all: the conversation's assignee since creation).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.db.models import Q

from threadline.conversations.models import ACTIVE_STATUSES, Conversation, ConversationEvent
from threadline.routing.models import Presence, PresenceInterval

RESOLVED = frozenset({"solved", "closed"})
Span = tuple[dt.datetime, dt.datetime]


def merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        elif a < b:
            out.append((a, b))
    return out


def overlap_seconds(first: list[Span], second: list[Span]) -> int:
    """Seconds covered by both lists of merged spans."""
    total, i, j = 0.0, 0, 0
    while i < len(first) and j < len(second):
        a, b = max(first[i][0], second[j][0]), min(first[i][1], second[j][1])
        if a < b:
            total += (b - a).total_seconds()
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return int(total)


def online_spans(workspace_id: int, start: dt.datetime, end: dt.datetime) -> dict[int, list[Span]]:
    spans: dict[int, list[Span]] = defaultdict(list)
    for agent_id, a, b in PresenceInterval.objects.filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=start), workspace_id=workspace_id, status=Presence.ONLINE,
            started_at__lt=end).values_list("membership_id", "started_at", "ended_at"):
        a, b = max(a, start), min(b or end, end)
        if a < b:
            spans[agent_id].append((a, b))
    return {agent_id: merge(items) for agent_id, items in spans.items()}


def busy_spans(workspace_id: int, agents: set[int], start: dt.datetime, end: dt.datetime) -> dict[int, list[Span]]:
    """Per agent, the merged spans within [start, end) with at least one open conversation assigned to them."""
    if not agents:
        return {}
    touched = ConversationEvent.objects.filter(workspace_id=workspace_id, created_at__gte=start,
                                               kind__in=("status_changed", "reopened", "assigned"))
    candidates = dict(Conversation.objects.filter(
        Q(status__in=ACTIVE_STATUSES) | Q(pk__in=touched.values("conversation_id")),
        workspace_id=workspace_id, created_at__lt=end).values_list("pk", "created_at"))
    current = dict(Conversation.objects.filter(pk__in=list(candidates)).values_list("pk", "assignee_id"))
    rows: dict[int, list[tuple[dt.datetime, str, dict]]] = defaultdict(list)
    for conversation_id, at, kind, data in ConversationEvent.objects.filter(
            conversation_id__in=list(candidates), kind__in=("status_changed", "reopened", "assigned")).order_by(
            "created_at", "id").values_list("conversation_id", "created_at", "kind", "data"):
        rows[conversation_id].append((at, kind, data))
    spans: dict[int, list[Span]] = defaultdict(list)
    for pk, created in candidates.items():
        events = rows.get(pk, [])
        first_assigned = next((data for _at, kind, data in events if kind == "assigned"), None)
        assignee = first_assigned.get("old") if first_assigned is not None else current[pk]
        is_open, since = True, created
        for at, kind, data in [*events, (end, "end", {})]:
            at = min(max(at, created), end)
            if is_open and assignee in agents and since < at:
                a, b = max(since, start), min(at, end)
                if a < b:
                    spans[assignee].append((a, b))
            since = at
            if kind == "assigned":
                assignee = data.get("new")
            elif kind == "reopened":
                is_open = True
            elif kind == "status_changed":
                old, new = data.get("old"), data.get("new")
                if new in RESOLVED and old not in RESOLVED:
                    is_open = False
                elif old in RESOLVED and new not in RESOLVED:
                    is_open = True
    return {agent_id: merge(items) for agent_id, items in spans.items()}


def agent_day(workspace_id: int, start: dt.datetime, end: dt.datetime,
              moment: dt.datetime) -> dict[int, tuple[int, int]]:
    """(online_seconds, busy_seconds) per agent online in [start, end); time after `moment` is not counted."""
    end = min(end, moment)
    if end <= start:
        return {}
    online = online_spans(workspace_id, start, end)
    busy = busy_spans(workspace_id, set(online), start, end)
    return {agent_id: (sum(int((b - a).total_seconds()) for a, b in spans),
                       overlap_seconds(spans, busy.get(agent_id, [])))
            for agent_id, spans in online.items()}


def stale_days(zones: dict[int, ZoneInfo], zone_of: Callable[[int], ZoneInfo]) -> set[tuple[int, dt.date]]:
    """The (workspace, local day) pairs that presence changes since the last call touched (from the start of
    the interval each change closed to the change), and moves the cursor past them."""
    from threadline.analytics.models import PresenceCursor

    cursor, _created = PresenceCursor.objects.select_for_update().get_or_create(pk=1)
    new = list(PresenceInterval.objects.filter(pk__gt=cursor.last_interval_id).order_by("pk").values_list(
        "pk", "workspace_id", "membership_id", "started_at"))
    days: set[tuple[int, dt.date]] = set()
    for _pk, workspace_id, agent_id, started_at in new:
        if workspace_id not in zones:
            zones[workspace_id] = zone_of(workspace_id)
        zone = zones[workspace_id]
        previous = PresenceInterval.objects.filter(membership_id=agent_id, started_at__lt=started_at).order_by(
            "-started_at").values_list("started_at", flat=True).first()
        day, last = (previous or started_at).astimezone(zone).date(), started_at.astimezone(zone).date()
        while day <= last:
            days.add((workspace_id, day))
            day += dt.timedelta(days=1)
    if new:
        cursor.last_interval_id = new[-1][0]
        cursor.save(update_fields=["last_interval_id"])
    return days
