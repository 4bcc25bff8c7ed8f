"""Per-day and per-month rollups of the conversation facts, so a report costs the same at any size.

A `DayRollup` row sums the facts created on one local day (or month) for one dimension value: every
conversation, or those of one channel used, brand, team, last assignee, language or tag. The refresh rebuilds
the rows of the days whose facts it recomputed (`refresh_days`), then their months from the day rows.

A report with at most one of those filters reads the rollups: whole months inside the date range from the month
rows, the rest from the day rows (at most about 62 rows per figure, whatever the size). Counts, rates and
volumes are exact. Durations are histograms (`bucket`): values under 128 s exactly, above in 64 buckets per
doubling; a percentile read from them is the middle of the bucket holding the nearest-rank value, within 0.8% of
it. When the values a percentile ranks number at most `EXACT_LIMIT`, it is read exactly from the facts instead.
Two filters or more (channel and agent, say) read the facts (docs/analytics.md, Sizing).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from threadline.analytics.models import ConversationFact, DayRollup

if TYPE_CHECKING:
    from threadline.analytics.metrics import Filters

EXACT_LIMIT = 5_000  # percentiles over at most this many values are ranked exactly from the facts
GAP_DAYS = 90  # repeat-contact and explain-twice windows the rollups answer (longer ones read the facts)
PRECISION = 6  # bits after the leading one: 64 buckets per doubling
DIMENSIONS = {"channel_id": "channel", "brand_id": "brand", "team_id": "team", "agent_id": "agent",
              "language": "language", "tag": "tag"}
HISTOGRAMS = ("first_response", "first_response_business", "next_response", "resolution", "resolution_business")
COUNTS = ("resolved", "reopened", "first_contact", "switched", "with_bot", "bot_resolved", "bot_handed_over",
          "bot_abandoned")
FACT_COLUMNS = ("conversation_id", "origin_channel_id", "channels_used", "channel_count", "brand_id", "team_id",
                "last_assignee_id", "language", "tags", "created_hour", "first_responder_id",
                "first_response_seconds", "first_response_business_seconds", "next_response_seconds", "resolutions",
                "reopens", "resolution_seconds", "resolution_business_seconds", "replies_before_resolution",
                "bot_outcome", "sla_policy_id", "sla_first_response", "sla_resolution", "repeat_gap_seconds",
                "explain_twice_gap_seconds", "surveys")


# ── histograms ──────────────────────────────────────────────────────────────────────────────────────
def bucket(value: int) -> int:
    """The lower bound of the value's bucket: the value itself under 2**(PRECISION+1), else the value with all
    but its leading PRECISION+1 bits cleared."""
    shift = max(0, value.bit_length() - PRECISION - 1)
    return (value >> shift) << shift


def bucket_middle(lower: int) -> int:
    """The middle of the bucket starting at `lower` (the value itself where buckets are one second wide)."""
    width = 1 << max(0, lower.bit_length() - PRECISION - 1)
    return lower + width // 2


def percentile(histogram: dict[int, int], percent: int) -> int | None:
    """Nearest rank over a histogram: the middle of the bucket holding rank ceil(percent/100 × n)."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(percent * total / 100)), 0
    for lower in sorted(histogram):
        seen += histogram[lower]
        if seen >= rank:
            return bucket_middle(lower)
    return None  # unreachable: seen ends at total ≥ rank


def _gap_days(seconds: int | None) -> int | None:
    if seconds is None:
        return None
    days = -(-seconds // 86_400)  # ceil: gap ≤ N days exactly when ceil(gap / 1 day) ≤ N
    return days if days <= GAP_DAYS else None


# ── building ────────────────────────────────────────────────────────────────────────────────────────
class _Sums:
    """The running sums of one rollup row."""

    def __init__(self) -> None:
        self.conversations = 0
        self.counts: Counter[str] = Counter()
        self.volume: dict[str, list[int]] = {}
        self.gaps = {"repeat": Counter(), "explain": Counter()}
        self.histograms = {name: Counter() for name in HISTOGRAMS}
        self.sla: dict[str, list[int]] = {}
        self.agents: dict[str, list[int]] = {}
        self.responders: dict[str, Counter[int]] = {}
        self.surveys: dict[str, tuple[list[int], Counter[str]]] = {}  # kind → ([sent], answers per score)

    def add_surveys(self, kind: str, sent: int, scores: dict[str, int]) -> None:
        mine = self.surveys.setdefault(kind, ([0], Counter()))
        mine[0][0] += sent
        mine[1].update(scores)

    def add_fact(self, row: dict[str, Any]) -> None:
        self.conversations += 1
        resolved = row["resolutions"] >= 1
        flags = {"resolved": resolved, "reopened": resolved and row["reopens"] >= 1,
                 "first_contact": resolved and row["reopens"] == 0 and row["replies_before_resolution"] <= 1,
                 "switched": row["channel_count"] > 1, "with_bot": bool(row["bot_outcome"]),
                 "bot_resolved": row["bot_outcome"] == "resolved",
                 "bot_handed_over": row["bot_outcome"] == "handed_over",
                 "bot_abandoned": row["bot_outcome"] == "abandoned"}
        self.counts.update(name for name, on in flags.items() if on)
        origin = "" if row["origin_channel_id"] is None else str(row["origin_channel_id"])
        self.volume.setdefault(origin, [0] * 24)[row["created_hour"]] += 1
        for name, column in (("repeat", "repeat_gap_seconds"), ("explain", "explain_twice_gap_seconds")):
            days = _gap_days(row[column])
            if days is not None:
                self.gaps[name][days] += 1
        for name, column in (("first_response", "first_response_seconds"),
                             ("first_response_business", "first_response_business_seconds"),
                             ("resolution", "resolution_seconds"),
                             ("resolution_business", "resolution_business_seconds")):
            if row[column] is not None:
                self.histograms[name][bucket(row[column])] += 1
        self.histograms["next_response"].update(bucket(v) for v in row["next_response_seconds"])
        if row["sla_policy_id"] is not None:
            sla = self.sla.setdefault(str(row["sla_policy_id"]), [0, 0, 0, 0])
            for i, outcome in ((0, row["sla_first_response"]), (2, row["sla_resolution"])):
                if outcome in ("met", "breached"):
                    sla[i + (outcome == "breached")] += 1
        if row["last_assignee_id"] is not None:
            agent = self.agents.setdefault(str(row["last_assignee_id"]), [0, 0, 0, 0])
            csat = row["surveys"].get("csat", {}).get("scores", [])
            agent[0] += 1
            agent[1] += resolved
            agent[2] += len(csat)  # CSAT answers, and the satisfied ones (4-5)
            agent[3] += sum(1 for score in csat if score >= 4)
        if row["first_responder_id"] is not None:
            self.responders.setdefault(str(row["first_responder_id"]), Counter())[
                bucket(row["first_response_seconds"])] += 1
        for kind, figures in row["surveys"].items():
            self.add_surveys(kind, figures["sent"], Counter(str(score) for score in figures["scores"]))

    def add_rollup(self, row: DayRollup) -> None:
        self.conversations += row.conversations
        self.counts.update(row.counts)
        for origin, hours in row.volume.items():
            mine = self.volume.setdefault(origin, [0] * 24)
            for hour, n in enumerate(hours):
                mine[hour] += n
        self.gaps["repeat"].update({int(k): v for k, v in row.repeat.items()})
        self.gaps["explain"].update({int(k): v for k, v in row.explain.items()})
        for name in HISTOGRAMS:
            self.histograms[name].update({int(k): v for k, v in getattr(row, name).items()})
        for policy, values in row.sla.items():
            mine = self.sla.setdefault(policy, [0, 0, 0, 0])
            for i, n in enumerate(values):
                mine[i] += n
        for agent, values in row.agents.items():
            mine = self.agents.setdefault(agent, [0, 0, 0, 0])
            for i, n in enumerate(values):
                mine[i] += n
        for agent, histogram in row.responders.items():
            self.responders.setdefault(agent, Counter()).update({int(k): v for k, v in histogram.items()})
        for kind, figures in row.surveys.items():
            self.add_surveys(kind, figures["sent"], figures["scores"])

    def row(self, workspace_id: int, grain: str, dimension: str, value: str, day: dt.date) -> DayRollup:
        return DayRollup(
            workspace_id=workspace_id, grain=grain, dimension=dimension, value=value, day=day,
            conversations=self.conversations, counts=dict(self.counts), volume=self.volume,
            repeat=dict(self.gaps["repeat"]), explain=dict(self.gaps["explain"]),
            sla=self.sla, agents=self.agents, responders={k: dict(v) for k, v in self.responders.items()},
            surveys={kind: {"sent": sent[0], "scores": dict(scores)} for kind, (sent, scores) in self.surveys.items()},
            **{name: dict(self.histograms[name]) for name in HISTOGRAMS})


def _dimension_values(row: dict[str, Any]) -> Iterator[tuple[str, str]]:
    yield "", ""
    for channel in row["channels_used"]:
        yield "channel", str(channel)
    for dimension, column in (("brand", "brand_id"), ("team", "team_id"), ("agent", "last_assignee_id")):
        if row[column] is not None:
            yield dimension, str(row[column])
    yield "language", row["language"]
    for tag in row["tags"]:
        yield "tag", tag


def rollup_day(workspace_id: int, day: dt.date) -> None:
    """Replace the day rows of one local day from that day's conversation facts."""
    sums: dict[tuple[str, str], _Sums] = defaultdict(_Sums)
    for values in ConversationFact.objects.filter(workspace_id=workspace_id, created_day=day).values_list(
            *FACT_COLUMNS).iterator(chunk_size=2000):
        row = dict(zip(FACT_COLUMNS, values, strict=True))
        for key in _dimension_values(row):
            sums[key].add_fact(row)
    DayRollup.objects.filter(workspace_id=workspace_id, grain="d", day=day).delete()
    DayRollup.objects.bulk_create([s.row(workspace_id, "d", dimension, value, day)
                                   for (dimension, value), s in sums.items()])


def rollup_month(workspace_id: int, month: dt.date) -> None:
    """Replace the month rows of the month starting on `month` from its day rows."""
    sums: dict[tuple[str, str], _Sums] = defaultdict(_Sums)
    for row in DayRollup.objects.filter(workspace_id=workspace_id, grain="d", day__gte=month,
                                        day__lt=_next_month(month)):
        sums[(row.dimension, row.value)].add_rollup(row)
    DayRollup.objects.filter(workspace_id=workspace_id, grain="m", day=month).delete()
    DayRollup.objects.bulk_create([s.row(workspace_id, "m", dimension, value, month)
                                   for (dimension, value), s in sums.items()])


def refresh_days(days: Iterable[tuple[int, dt.date]]) -> None:
    """The day rows of these (workspace, local day) pairs, then the month rows of their months."""
    days = sorted(set(days))
    for workspace_id, day in days:
        rollup_day(workspace_id, day)
    for workspace_id, month in sorted({(ws, day.replace(day=1)) for ws, day in days}):
        rollup_month(workspace_id, month)


def rebuild(workspace_id: int) -> int:
    """Every rollup of a workspace again from its facts; how many days had conversations."""
    DayRollup.objects.filter(workspace_id=workspace_id).delete()
    days = list(ConversationFact.objects.filter(workspace_id=workspace_id).values_list("created_day", flat=True)
                .distinct().order_by("created_day"))
    refresh_days((workspace_id, day) for day in days)
    return len(days)


# ── reading ─────────────────────────────────────────────────────────────────────────────────────────
def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _dimension(f: Filters) -> tuple[str, str] | None:
    """The one dimension the filters name ("" when none), or None when they name two or more or a window of
    hours (`since`: the rollups hold whole days)."""
    if f.since is not None:
        return None
    named = [(dimension, getattr(f, name)) for name, dimension in DIMENSIONS.items() if getattr(f, name) is not None]
    if len(named) > 1:
        return None
    return (named[0][0], str(named[0][1])) if named else ("", "")


def _range_q(f: Filters, by_day: bool) -> Q:
    """Rows covering the date range: whole months from month rows (unless `by_day`), the other days from day
    rows."""
    start, end = f.start or dt.date.min, f.end or dt.date.max
    days = Q(grain="d", day__gte=start, day__lte=end)
    if by_day:
        return days
    first = start if start.day == 1 else _next_month(start)  # the first whole month's first day
    month_ends = end == dt.date.max or end + dt.timedelta(days=1) == _next_month(end)
    last_end = end if month_ends else end.replace(day=1) - dt.timedelta(days=1)  # the last whole month's end
    if first > last_end:  # no whole month in the range
        return days
    return Q(grain="m", day__gte=first, day__lte=last_end) | (days & (Q(day__lt=first) | Q(day__gt=last_end)))


def rows(f: Filters, *columns: str, by_day: bool = False) -> list[tuple[Any, ...]] | None:
    """(day, conversations, *columns) of the rollup rows the filters select, or None when they cannot
    (two dimensions or more)."""
    dimension = _dimension(f)
    if dimension is None:
        return None
    return list(DayRollup.objects.filter(Q(workspace_id=f.workspace_id, dimension=dimension[0],
                                           value=dimension[1]) & _range_q(f, by_day))
                .values_list("day", "conversations", *columns))


def counts(f: Filters, *names: str) -> dict[str, int] | None:
    """Exact counts: `conversations` and any of COUNTS."""
    found = rows(f, "counts")
    if found is None:
        return None
    total: Counter[str] = Counter()
    for _day, conversations, values in found:
        total["conversations"] += conversations
        total.update(values)
    return {name: total[name] for name in names}


def within(f: Filters, column: str, days: int) -> int | None:
    """How many conversations have a gap (repeat or explain) of at most `days` days; None past GAP_DAYS."""
    if days > GAP_DAYS:
        return None
    found = rows(f, column)
    if found is None:
        return None
    return sum(n for _day, _c, gaps in found for k, n in gaps.items() if int(k) <= days)


def histogram(f: Filters, *columns: str) -> list[Counter[int]] | None:
    """The summed histograms of these columns, or None when the rollups cannot answer."""
    found = rows(f, *columns)
    if found is None:
        return None
    sums = [Counter() for _ in columns]
    for _day, _c, *values in found:
        for total, part in zip(sums, values, strict=True):
            total.update({int(k): v for k, v in part.items()})
    return sums


def merged(f: Filters, column: str, *, by_day: bool = False) -> list[tuple[dt.date, Any]] | None:
    """(day, value) of one JSON column, for the caller to sum."""
    found = rows(f, column, by_day=by_day)
    return None if found is None else [(day, value) for day, _c, value in found]
