"""The metrics, each computed from the fact tables only; docs/analytics.md gives each one's exact formula.

Every metric takes `Filters` (workspace, local date range of the conversation's creation, channel used,
brand, team, agent, language, tag). With at most one filter besides the dates they read the per-day and
per-month rollups (`rollups`: exact counts, percentiles from histograms past `rollups.EXACT_LIMIT` values),
else SQL aggregates on the facts' indexes and the one column a percentile ranks (nearest rank,
`stats.nearest_rank`). Rates are fractions rounded to 4 places, None when nothing is counted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum

from threadline.analytics import rollups
from threadline.analytics.models import AgentDayFact, ChannelDayFact, ConversationFact, FactChannel, FactTag
from threadline.analytics.stats import nearest_rank
from threadline.core.time import now

DAY = 86_400
RESOLVED_Q = Q(resolutions__gte=1)


@dataclass(frozen=True)
class Filters:
    workspace_id: int
    start: dt.date | None = None  # first local day, inclusive
    end: dt.date | None = None  # last local day, inclusive
    channel_id: int | None = None  # a channel the conversation used
    brand_id: int | None = None
    team_id: int | None = None
    agent_id: int | None = None  # the conversation's (last) assignee
    language: str | None = None
    tag: str | None = None
    since: dt.datetime | None = None  # created at or after this instant (an alert's last N hours): facts only


def _days(f: Filters, column: str = "created_day") -> Q:
    q = Q()
    if f.start is not None:
        q &= Q(**{f"{column}__gte": f.start})
    if f.end is not None:
        q &= Q(**{f"{column}__lte": f.end})
    return q


def facts(f: Filters, *, dated: bool = True) -> QuerySet[ConversationFact]:
    """The conversation facts the filters select (`dated=False`: whenever they were created)."""
    q = Q(workspace_id=f.workspace_id) & (_days(f) if dated else Q())
    if dated and f.since is not None:
        q &= Q(created_at__gte=f.since)
    for column, value in (("brand_id", f.brand_id), ("team_id", f.team_id), ("last_assignee_id", f.agent_id),
                          ("language", f.language)):
        if value is not None:
            q &= Q(**{column: value})
    if f.channel_id is not None:
        q &= Q(pk__in=FactChannel.objects.filter(
            Q(workspace_id=f.workspace_id, channel_id=f.channel_id) & (_days(f) if dated else Q())).values("fact_id"))
    if f.tag is not None:
        q &= Q(pk__in=FactTag.objects.filter(
            Q(workspace_id=f.workspace_id, tag=f.tag) & (_days(f) if dated else Q())).values("fact_id"))
    return ConversationFact.objects.filter(q)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _spread(values: list[int]) -> dict[str, Any]:
    ordered = sorted(values)
    return {"count": len(ordered), "median": nearest_rank(ordered, 50), "p90": nearest_rank(ordered, 90)}


def _from_histogram(histogram: dict[int, int]) -> dict[str, Any]:
    return {"count": sum(histogram.values()), "median": rollups.percentile(histogram, 50),
            "p90": rollups.percentile(histogram, 90)}


def _ranked(f: Filters, calendar: str, business: str) -> dict[str, Any]:
    name = calendar.removesuffix("_seconds")
    histograms = rollups.histogram(f, name, f"{name}_business")
    if histograms is not None and sum(histograms[0].values()) > rollups.EXACT_LIMIT:
        spread, business_spread = (_from_histogram(h) for h in histograms)
        return {**spread, "business_median": business_spread["median"], "business_p90": business_spread["p90"]}
    rows = list(facts(f).filter(**{f"{calendar}__isnull": False}).values_list(calendar, business))
    spread = _spread([r[0] for r in rows])
    business_spread = _spread([r[1] for r in rows if r[1] is not None])
    return {**spread, "business_median": business_spread["median"], "business_p90": business_spread["p90"]}


# ── volume and times ────────────────────────────────────────────────────────────────────────────────
BUCKETS = {"hour": "created_hour", "day": "created_day", "week": "created_week"}


def volume(f: Filters, by: str = "day") -> list[dict[str, Any]]:
    """New conversations per channel of origin and local hour of day, day or week (Monday)."""
    rolled = rollups.merged(f, "volume", by_day=by != "hour")
    if rolled is not None:
        return _rolled_volume(rolled, by)
    column = BUCKETS[by]
    rows = (facts(f).values_list("origin_channel_id", column).annotate(n=Count("pk"))
            .values_list("origin_channel_id", column, "n").order_by(column, "origin_channel_id"))
    return [{"channel_id": channel, "bucket": bucket if isinstance(bucket, int) else bucket.isoformat(), "count": n}
            for channel, bucket, n in rows]


def _rolled_volume(rolled: list[tuple[dt.date, dict[str, list[int]]]], by: str) -> list[dict[str, Any]]:
    sums: dict[tuple[Any, str], int] = defaultdict(int)
    for day, origins in rolled:
        for origin, hours in origins.items():
            if by == "hour":
                for hour, n in enumerate(hours):
                    sums[(hour, origin)] += n
            else:
                sums[(day - dt.timedelta(days=day.weekday()) if by == "week" else day, origin)] += sum(hours)
    ordered = sorted(((bucket, origin) for (bucket, origin), n in sums.items() if n),
                     key=lambda k: (k[0], k[1] == "", int(k[1] or 0)))
    return [{"channel_id": int(origin) if origin else None,
             "bucket": bucket if isinstance(bucket, int) else bucket.isoformat(), "count": sums[(bucket, origin)]}
            for bucket, origin in ordered]


def first_response(f: Filters) -> dict[str, Any]:
    return _ranked(f, "first_response_seconds", "first_response_business_seconds")


def resolution(f: Filters) -> dict[str, Any]:
    return _ranked(f, "resolution_seconds", "resolution_business_seconds")


def next_response(f: Filters) -> dict[str, Any]:
    histograms = rollups.histogram(f, "next_response")
    if histograms is not None and sum(histograms[0].values()) > rollups.EXACT_LIMIT:
        return _from_histogram(histograms[0])
    values: list[int] = []
    for seconds in facts(f).exclude(next_response_seconds=[]).values_list("next_response_seconds", flat=True):
        values.extend(seconds)
    return _spread(values)


# ── rates ───────────────────────────────────────────────────────────────────────────────────────────
def _counts(f: Filters, rolled: dict[str, str] | None = None, **parts: Q) -> dict[str, int]:
    """Each part's count over the conversations; from the rollups' counts when `rolled` names each part's
    rollup count (`conversations` or one of rollups.COUNTS) and the filters allow."""
    if rolled is not None:
        found = rollups.counts(f, *rolled.values())
        if found is not None:
            return {name: found[rolled[name]] for name in parts}
    answer = facts(f).aggregate(**{name: Count("pk", filter=q) for name, q in parts.items()})
    return {name: answer[name] or 0 for name in parts}


def _gap_counts(f: Filters, column: str, days: int, **parts: Q) -> dict[str, int]:
    """conversations and those with a gap within `days` days (the second part), from the rollups if they can."""
    conversations = rollups.counts(f, "conversations")
    within = rollups.within(f, column, days)
    if conversations is not None and within is not None:
        return dict(zip(parts, (conversations["conversations"], within), strict=True))
    return _counts(f, **parts)


def reopen_rate(f: Filters) -> dict[str, Any]:
    c = _counts(f, {"resolved": "resolved", "reopened": "reopened"},
                resolved=RESOLVED_Q, reopened=RESOLVED_Q & Q(reopens__gte=1))
    return {**c, "rate": rate(c["reopened"], c["resolved"])}


def first_contact_resolution(f: Filters) -> dict[str, Any]:
    c = _counts(f, {"resolved": "resolved", "first_contact": "first_contact"}, resolved=RESOLVED_Q,
                first_contact=RESOLVED_Q & Q(reopens=0, replies_before_resolution__lte=1))
    return {**c, "rate": rate(c["first_contact"], c["resolved"])}


def repeat_contact(f: Filters, days: int = 7) -> dict[str, Any]:
    c = _gap_counts(f, "repeat", days, conversations=Q(), repeated=Q(repeat_gap_seconds__lte=days * DAY))
    return {**c, "days": days, "rate": rate(c["repeated"], c["conversations"])}


def channel_switch(f: Filters) -> dict[str, Any]:
    c = _counts(f, {"conversations": "conversations", "switched": "switched"},
                conversations=Q(), switched=Q(channel_count__gt=1))
    return {**c, "rate": rate(c["switched"], c["conversations"])}


def explain_twice(f: Filters, days: int = 7) -> dict[str, Any]:
    c = _gap_counts(f, "explain", days, conversations=Q(),
                    explained_twice=Q(explain_twice_gap_seconds__lte=days * DAY))
    return {**c, "days": days, "rate": rate(c["explained_twice"], c["conversations"])}


def bot(f: Filters) -> dict[str, Any]:
    c = _counts(f, {"with_bot": "with_bot", "resolved": "bot_resolved", "handed_over": "bot_handed_over",
                    "abandoned": "bot_abandoned"}, with_bot=~Q(bot_outcome=""), resolved=Q(bot_outcome="resolved"),
                handed_over=Q(bot_outcome="handed_over"), abandoned=Q(bot_outcome="abandoned"))
    return {**c, "deflection_rate": rate(c["resolved"], c["with_bot"]),
            "handoff_rate": rate(c["handed_over"], c["with_bot"])}


def sla(f: Filters) -> list[dict[str, Any]]:
    """Per policy and target: met, breached (counted once decided), and attainment met / (met + breached)."""
    rolled = rollups.merged(f, "sla")
    if rolled is not None:
        sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for _day, policies in rolled:
            for policy, values in policies.items():
                sums[int(policy)] = [a + b for a, b in zip(sums[int(policy)], values, strict=True)]
        rows = [(policy, *values) for policy, values in sorted(sums.items())]
    else:
        rows = list(facts(f).filter(sla_policy_id__isnull=False).values_list("sla_policy_id")
                    .annotate(fr_met=Count("pk", filter=Q(sla_first_response="met")),
                              fr_breached=Count("pk", filter=Q(sla_first_response="breached")),
                              res_met=Count("pk", filter=Q(sla_resolution="met")),
                              res_breached=Count("pk", filter=Q(sla_resolution="breached")))
                    .values_list("sla_policy_id", "fr_met", "fr_breached", "res_met", "res_breached")
                    .order_by("sla_policy_id"))
    return [{"policy_id": policy,
             "first_response": {"met": a, "breached": b, "attainment": rate(a, a + b)},
             "resolution": {"met": c, "breached": d, "attainment": rate(c, c + d)}}
            for policy, a, b, c, d in rows]


AGE_BUCKETS = (("under_1h", 3600), ("under_1d", DAY), ("under_7d", 7 * DAY), ("older", None))


def backlog(f: Filters, at: dt.datetime | None = None) -> dict[str, Any]:
    """The conversations active now (new, open, pending, on hold) whatever the date range, and their ages."""
    at = at or now()
    # the workspace's active facts through the backlog index, the other filters applied here: the work is the
    # backlog's size, not the workspace's, whichever filter is set
    wanted = {"brand_id": f.brand_id, "team_id": f.team_id, "last_assignee_id": f.agent_id, "language": f.language}
    wanted = {column: value for column, value in wanted.items() if value is not None}
    sets = [column for column, value in (("channels_used", f.channel_id), ("tags", f.tag)) if value is not None]
    # `is_active__in`: Django writes `is_active=True` as a bare column, which SQLite cannot seek an index by
    active = ConversationFact.objects.filter(workspace_id=f.workspace_id, is_active__in=[True])
    if sets and connection.vendor == "postgresql":  # jsonb containment in the database: no set sent back per row
        # (no index covers it, so the planner keeps the backlog index)
        active = active.filter(**{f"{column}__contains": [value] for column, value in (
            ("channels_used", f.channel_id), ("tags", f.tag)) if value is not None})
        sets = []
    ages = sorted(
        int((at - row["created_at"]).total_seconds())
        for row in active.values("created_at", *sets, *wanted)
        if all(row[column] == value for column, value in wanted.items())
        and ("channels_used" not in row or f.channel_id in row["channels_used"])
        and ("tags" not in row or f.tag in row["tags"]))
    buckets = dict.fromkeys((name for name, _limit in AGE_BUCKETS), 0)
    for age in ages:
        buckets[next(name for name, limit in AGE_BUCKETS if limit is None or age < limit)] += 1
    return {"open": len(ages), "median_age_seconds": nearest_rank(ages, 50), "p90_age_seconds": nearest_rank(ages, 90),
            "ages": buckets}


def agents(f: Filters) -> list[dict[str, Any]]:
    """Per agent: conversations handled (last assignee) and resolved, their CSAT (satisfied answers / answers),
    first responses given and their median; replies, time online, busy time and occupancy (busy / online, None
    when never online) from the agent-day facts (the date range alone applies to them)."""
    table: dict[int, dict[str, Any]] = defaultdict(lambda: {
        "handled": 0, "resolved": 0, "csat_responses": 0, "csat": None, "first_responses": 0,
        "median_first_response_seconds": None, "replies": 0, "online_seconds": 0, "busy_seconds": 0,
        "occupancy": None})
    rolled = rollups.rows(f, "agents", "responders")
    if rolled is not None and sum(n for _day, n, *_rest in rolled) > rollups.EXACT_LIMIT:
        _rolled_agents(table, rolled)
    else:
        _exact_agents(table, f)
    for agent_id, replies, online, busy in (
            AgentDayFact.objects.filter(Q(workspace_id=f.workspace_id) & _days(f, "day")).values_list("agent_id")
            .annotate(n=Sum("replies"), o=Sum("online_seconds"), b=Sum("busy_seconds"))
            .values_list("agent_id", "n", "o", "b").order_by()):
        if f.agent_id is None or agent_id == f.agent_id:
            table[agent_id].update(replies=replies, online_seconds=online, busy_seconds=busy,
                                   occupancy=rate(busy, online))
    return [{"agent_id": agent_id, **row} for agent_id, row in sorted(table.items())]


def _rolled_agents(table: dict[int, dict[str, Any]], rolled: list[tuple[Any, ...]]) -> None:
    handled: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    firsts: dict[int, Counter[int]] = defaultdict(Counter)
    for _day, _n, agent_rows, responders in rolled:
        for agent_id, values in agent_rows.items():
            mine = handled[int(agent_id)]
            for i, n in enumerate(values):
                mine[i] += n
        for agent_id, histogram in responders.items():
            firsts[int(agent_id)].update({int(k): v for k, v in histogram.items()})
    for agent_id, (h, r, answers, satisfied) in handled.items():
        table[agent_id].update(handled=h, resolved=r, csat_responses=answers, csat=rate(satisfied, answers))
    for agent_id, histogram in firsts.items():
        table[agent_id].update(first_responses=sum(histogram.values()),
                               median_first_response_seconds=rollups.percentile(histogram, 50))


def _exact_agents(table: dict[int, dict[str, Any]], f: Filters) -> None:
    for agent_id, handled, resolved in (facts(f).filter(last_assignee_id__isnull=False)
                                        .values_list("last_assignee_id")
                                        .annotate(h=Count("pk"), r=Count("pk", filter=RESOLVED_Q))
                                        .values_list("last_assignee_id", "h", "r").order_by()):
        table[agent_id].update(handled=handled, resolved=resolved)
    csat: dict[int, list[int]] = defaultdict(list)
    for agent_id, surveys in facts(f).filter(last_assignee_id__isnull=False).exclude(surveys={}).values_list(
            "last_assignee_id", "surveys"):
        csat[agent_id].extend(surveys.get("csat", {}).get("scores", []))
    for agent_id, scores in csat.items():
        table[agent_id].update(csat_responses=len(scores), csat=rate(sum(1 for s in scores if s >= 4), len(scores)))
    firsts: dict[int, list[int]] = defaultdict(list)
    for agent_id, seconds in facts(f).filter(first_responder_id__isnull=False).values_list(
            "first_responder_id", "first_response_seconds"):
        firsts[agent_id].append(seconds)
    for agent_id, values in firsts.items():
        table[agent_id].update(first_responses=len(values), median_first_response_seconds=nearest_rank(sorted(values), 50))


# ── per day ─────────────────────────────────────────────────────────────────────────────────────────
def channel_days(f: Filters) -> list[dict[str, Any]]:
    q = Q(workspace_id=f.workspace_id) & _days(f, "day")
    if f.channel_id is not None:
        q &= Q(channel_id=f.channel_id)
    columns = ("day", "channel_id", "new_conversations", "inbound", "outbound", "unique_contacts")
    return [{**dict(zip(columns, row, strict=True)), "day": row[0].isoformat()}
            for row in ChannelDayFact.objects.filter(q).order_by("day", "channel_id").values_list(*columns)]


def agent_days(f: Filters) -> list[dict[str, Any]]:
    q = Q(workspace_id=f.workspace_id) & _days(f, "day")
    if f.agent_id is not None:
        q &= Q(agent_id=f.agent_id)
    return [{"day": row.day.isoformat(), "agent_id": row.agent_id, "handled": row.handled, "replies": row.replies,
             "first_responses": row.first_responses,
             "median_first_response_seconds": row.median_first_response_seconds, "resolutions": row.resolutions,
             "online_seconds": row.online_seconds, "busy_seconds": row.busy_seconds,
             "occupancy": rate(row.busy_seconds, row.online_seconds)}
            for row in AgentDayFact.objects.filter(q).order_by("day", "agent_id")]


def overview(f: Filters, days: int = 7) -> dict[str, Any]:
    """Every single-figure metric at once (the reports page and `GET /api/v1/analytics/overview`)."""
    return {"first_response": first_response(f), "next_response": next_response(f), "resolution": resolution(f),
            "reopen": reopen_rate(f), "first_contact_resolution": first_contact_resolution(f),
            "repeat_contact": repeat_contact(f, days), "channel_switch": channel_switch(f),
            "explain_twice": explain_twice(f, days), "bot": bot(f), "backlog": backlog(f)}
