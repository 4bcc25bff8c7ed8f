"""A seeded month (analytics.testing) rebuilt into facts: every metric equals its value computed here, in
plain Python over the generator's plan, without the analytics code (docs/analytics.md has the formulas)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest

from threadline.analytics import metrics, survey_metrics
from threadline.analytics.metrics import Filters
from threadline.analytics.models import AgentDayFact, ChannelDayFact
from threadline.analytics.refresh import rebuild
from threadline.analytics.testing import DAYS, ZONE, at, make_plan, write

pytestmark = pytest.mark.django_db
LOCAL = ZoneInfo(ZONE)
DAY = 86_400
AS_OF = at(40 * 1440)  # the backlog's "now": ten days after the month


def rank(values, percent):
    values = sorted(values)
    return values[math.ceil(percent * len(values) / 100) - 1] if values else None


def ratio(part, whole):
    return round(part / whole, 4) if whole else None


def local(minute):
    return at(minute).astimezone(LOCAL)


def business_seconds(a, b):
    """Open minutes between two plan minutes, walked one by one (Monday to Friday, 09:00-17:00 local)."""
    return 60 * sum(1 for m in range(a, b) if local(m).weekday() < 5 and 9 <= local(m).hour < 17)


def agent_steps(p):
    return [s for s in p.steps if s.side == "agent"]


def first_resolution(p):
    return next((c.minute for c in p.changes if c.resolves), None)


def resolved_at(p, minute):
    state = False
    for change in p.changes:
        if change.minute <= minute:
            state = change.resolves
    return state


def occupancy(plan, w):
    """(local day, agent id) -> [online seconds, busy seconds], minute by minute: online from the presence plan;
    busy when one of the agent's assigned conversations (the plan's assignments, none before the first) is open
    (created and not resolved: the plan's changes)."""
    busy = defaultdict(set)
    horizon = (DAYS + 2) * 1440
    for p in plan.conversations:
        for m in range(p.start, horizon):
            who = next((a for minute, a in reversed(p.assignees) if minute <= m), None)
            if who is not None and not resolved_at(p, m):
                busy[who].add(m)
            if m > max([p.start, *(c.minute for c in p.changes), *(minute for minute, _a in p.assignees)]) and (
                    who is None or resolved_at(p, m)):
                break  # nothing changes any more
    out = defaultdict(lambda: [0, 0])
    for agent in range(plan.agents):
        changes = [(minute, status) for minute, a, status in plan.presence if a == agent]
        for (start, status), (end, _next) in zip(changes, changes[1:], strict=False):
            if status != "online":
                continue
            for m in range(start, end):
                row = out[(local(m).date(), w.agent_ids[agent])]
                row[0] += 60
                row[1] += 60 * (m in busy[agent])
    return out


@pytest.fixture
def month(admin):
    plan = make_plan(presence=True)
    written = write(admin, plan)
    rebuild(admin.workspace_id)
    return plan, written, Filters(workspace_id=admin.workspace_id)


def test_volume_by_channel_and_day_hour_week(month):
    plan, w, f = month
    expected_day = Counter((w.channel_ids[p.origin], local(p.start).date().isoformat()) for p in plan.conversations)
    expected_hour = Counter((w.channel_ids[p.origin], local(p.start).hour) for p in plan.conversations)
    expected_week = Counter(
        (w.channel_ids[p.origin], (local(p.start).date() - dt.timedelta(days=local(p.start).weekday())).isoformat())
        for p in plan.conversations)
    for by, expected in (("day", expected_day), ("hour", expected_hour), ("week", expected_week)):
        got = {(row["channel_id"], row["bucket"]): row["count"] for row in metrics.volume(f, by)}
        assert got == dict(expected), by


def test_first_next_and_resolution_times(month):
    plan, _w, f = month
    first, first_business, nxt, res, res_business = [], [], [], [], []
    for p in plan.conversations:
        replies = agent_steps(p)
        if replies:
            first.append(60 * (replies[0].minute - p.start))
            first_business.append(business_seconds(p.start, replies[0].minute) if p.policy is not None
                                  else first[-1])
            waiting = None
            for step in p.steps:
                if step.minute <= replies[0].minute:
                    continue
                if step.side == "contact" and waiting is None:
                    waiting = step.minute
                elif step.side == "agent" and waiting is not None:
                    nxt.append(60 * (step.minute - waiting))
                    waiting = None
        solved = first_resolution(p)
        if solved is not None:
            res.append(60 * (solved - p.start))
            res_business.append(business_seconds(p.start, solved) if p.policy is not None else res[-1])
    assert metrics.first_response(f) == {"count": len(first), "median": rank(first, 50), "p90": rank(first, 90),
                                         "business_median": rank(first_business, 50),
                                         "business_p90": rank(first_business, 90)}
    assert metrics.next_response(f) == {"count": len(nxt), "median": rank(nxt, 50), "p90": rank(nxt, 90)}
    assert metrics.resolution(f) == {"count": len(res), "median": rank(res, 50), "p90": rank(res, 90),
                                     "business_median": rank(res_business, 50), "business_p90": rank(res_business, 90)}
    assert len(nxt) > 5 and len(res) > 50 and first_business != first  # the month exercises each


def test_reopen_fcr_repeat_switch_explain_twice_and_bot(month):
    plan, _w, f = month
    resolved = [p for p in plan.conversations if first_resolution(p) is not None]
    reopened = [p for p in resolved if any(not c.resolves for c in p.changes)]
    fcr = [p for p in resolved if p not in reopened
           and sum(1 for s in agent_steps(p) if s.minute <= first_resolution(p)) <= 1]
    assert metrics.reopen_rate(f) == {"resolved": len(resolved), "reopened": len(reopened),
                                      "rate": ratio(len(reopened), len(resolved))}
    assert metrics.first_contact_resolution(f) == {"resolved": len(resolved), "first_contact": len(fcr),
                                                   "rate": ratio(len(fcr), len(resolved))}
    order = sorted(range(len(plan.conversations)), key=lambda i: (plan.conversations[i].start, i))
    by_contact = defaultdict(list)
    for i in order:
        by_contact[plan.conversations[i].contact].append(plan.conversations[i])
    total = len(plan.conversations)
    for days in (1, 7):
        repeated = explained = 0
        for items in by_contact.values():
            for k, p in enumerate(items):
                if k + 1 < len(items) and (items[k + 1].start - p.start) * 60 <= days * DAY:
                    repeated += 1
                gaps = [(p.start - e.start) * 60 for e in items[:k]
                        if e.start < p.start and not resolved_at(e, p.start)]
                if gaps and min(gaps) <= days * DAY:
                    explained += 1
        assert metrics.repeat_contact(f, days) == {"conversations": total, "repeated": repeated, "days": days,
                                                   "rate": ratio(repeated, total)}
        assert metrics.explain_twice(f, days) == {"conversations": total, "explained_twice": explained, "days": days,
                                                  "rate": ratio(explained, total)}
        assert repeated and explained
    switched = sum(1 for p in plan.conversations if len({s.channel for s in p.steps} | {p.origin}) > 1)
    assert metrics.channel_switch(f) == {"conversations": total, "switched": switched,
                                         "rate": ratio(switched, total)}
    outcomes = Counter(p.bot_outcome for p in plan.conversations if p.bot_outcome)
    with_bot = sum(outcomes.values())
    assert metrics.bot(f) == {"with_bot": with_bot, "resolved": outcomes["resolved"],
                              "handed_over": outcomes["handed_over"], "abandoned": outcomes["abandoned"],
                              "deflection_rate": ratio(outcomes["resolved"], with_bot),
                              "handoff_rate": ratio(outcomes["handed_over"], with_bot)}
    assert switched and all(outcomes[k] for k in ("resolved", "handed_over", "abandoned"))


def test_sla_backlog_and_agents(month, monkeypatch):
    plan, w, f = month
    sla = []
    for i, policy_id in enumerate(w.policy_ids):
        mine = [p for p in plan.conversations if p.policy == i]
        a, b = (sum(1 for p in mine if p.sla_first_response == o) for o in ("met", "breached"))
        c, d = (sum(1 for p in mine if p.sla_resolution == o) for o in ("met", "breached"))
        sla.append({"policy_id": policy_id, "first_response": {"met": a, "breached": b, "attainment": ratio(a, a + b)},
                    "resolution": {"met": c, "breached": d, "attainment": ratio(c, c + d)}})
    assert metrics.sla(f) == sla
    ages = [int((AS_OF - at(p.start)).total_seconds()) for p in plan.conversations
            if not (p.changes and p.changes[-1].resolves)]
    buckets = Counter("under_1h" if a < 3600 else "under_1d" if a < DAY else "under_7d" if a < 7 * DAY else "older"
                      for a in ages)
    assert metrics.backlog(f, AS_OF) == {
        "open": len(ages), "median_age_seconds": rank(ages, 50), "p90_age_seconds": rank(ages, 90),
        "ages": {name: buckets[name] for name in ("under_1h", "under_1d", "under_7d", "older")}}
    table = defaultdict(lambda: {"handled": 0, "resolved": 0, "csat_responses": 0, "csat": None, "first_responses": 0,
                                 "median_first_response_seconds": None, "replies": 0,
                                 "online_seconds": 0, "busy_seconds": 0, "occupancy": None})
    firsts, csat = defaultdict(list), defaultdict(list)
    for p in plan.conversations:
        if p.assignees:
            agent = w.agent_ids[p.assignees[-1][1]]
            table[agent]["handled"] += 1
            table[agent]["resolved"] += first_resolution(p) is not None
            if p.survey and p.survey[0] == "csat" and p.survey[2] is not None:
                csat[agent].append(p.survey[2])
        replies = agent_steps(p)
        if replies:
            firsts[w.agent_ids[replies[0].agent]].append(60 * (replies[0].minute - p.start))
        for step in replies:
            table[w.agent_ids[step.agent]]["replies"] += 1
    for agent, values in firsts.items():
        table[agent].update(first_responses=len(values), median_first_response_seconds=rank(values, 50))
    for agent, scores in csat.items():
        table[agent].update(csat_responses=len(scores), csat=ratio(sum(1 for s in scores if s >= 4), len(scores)))
    for (_day, agent), (online, busy) in occupancy(plan, w).items():
        table[agent]["online_seconds"] += online
        table[agent]["busy_seconds"] += busy
    for row in table.values():
        row["occupancy"] = ratio(row["busy_seconds"], row["online_seconds"])
    assert any(0 < row["busy_seconds"] < row["online_seconds"] for row in table.values())
    assert sum(len(scores) for scores in csat.values()) > 5
    expected = [{"agent_id": agent, **row} for agent, row in sorted(table.items())]
    assert metrics.agents(f) == expected
    from threadline.analytics import (
        rollups,  # past EXACT_LIMIT the rollups' sums give the same counts and CSAT
    )

    monkeypatch.setattr(rollups, "EXACT_LIMIT", 0)
    keys = ("agent_id", "handled", "resolved", "csat_responses", "csat")
    assert [{k: row[k] for k in keys} for row in metrics.agents(f)] == [{k: row[k] for k in keys} for row in expected]


def test_filters_narrow_every_metric(month):
    plan, w, f = month
    start, end = local(7 * 1440).date(), local(13 * 1440).date()
    chosen = [p for p in plan.conversations if start <= local(p.start).date() <= end]
    cases = [
        (Filters(workspace_id=f.workspace_id, start=start, end=end), chosen),
        (Filters(workspace_id=f.workspace_id, channel_id=w.channel_ids[1]),
         [p for p in plan.conversations if 1 in {s.channel for s in p.steps} | {p.origin}]),
        (Filters(workspace_id=f.workspace_id, tag="vip"), [p for p in plan.conversations if "vip" in p.tags]),
        (Filters(workspace_id=f.workspace_id, language="he"), [p for p in plan.conversations if p.language == "he"]),
        (Filters(workspace_id=f.workspace_id, agent_id=w.agent_ids[2]),
         [p for p in plan.conversations if p.assignees and p.assignees[-1][1] == 2]),
    ]
    for filters, subset in cases:
        switched = sum(1 for p in subset if len({s.channel for s in p.steps} | {p.origin}) > 1)
        assert metrics.channel_switch(filters) == {"conversations": len(subset), "switched": switched,
                                                   "rate": ratio(switched, len(subset))}, filters
        resolved = [p for p in subset if first_resolution(p) is not None]
        assert metrics.resolution(filters)["count"] == len(resolved), filters
        assert 0 < len(subset) < len(plan.conversations)
    assert metrics.channel_switch(Filters(workspace_id=f.workspace_id, brand_id=999))["conversations"] == 0
    assert metrics.channel_switch(Filters(workspace_id=f.workspace_id, team_id=999))["conversations"] == 0


def test_day_facts(month):
    plan, w, f = month
    channel_days = defaultdict(lambda: {"new_conversations": 0, "inbound": 0, "outbound": 0, "contacts": set()})
    agent_days = defaultdict(lambda: {"replies": 0, "handled": set(), "first": [], "resolutions": 0})
    for n, p in enumerate(plan.conversations):
        channel_days[(local(p.start).date(), w.channel_ids[p.origin])]["new_conversations"] += 1
        for step in p.steps:
            row = channel_days[(local(step.minute).date(), w.channel_ids[step.channel])]
            row["inbound" if step.side == "contact" else "outbound"] += 1
            row["contacts"].add(p.contact)
            if step.side == "agent":
                agent = agent_days[(local(step.minute).date(), w.agent_ids[step.agent])]
                agent["replies"] += 1
                agent["handled"].add(n)
        replies = agent_steps(p)
        if replies:
            agent_days[(local(replies[0].minute).date(), w.agent_ids[replies[0].agent])]["first"].append(
                60 * (replies[0].minute - p.start))
        for change in p.changes:
            if change.resolves and change.agent is not None:
                agent_days[(local(change.minute).date(), w.agent_ids[change.agent])]["resolutions"] += 1
    got = {(r.day, r.channel_id): (r.new_conversations, r.inbound, r.outbound, r.unique_contacts)
           for r in ChannelDayFact.objects.filter(workspace_id=f.workspace_id)}
    assert got == {key: (v["new_conversations"], v["inbound"], v["outbound"], len(v["contacts"]))
                   for key, v in channel_days.items()}
    online = {(day, agent): seconds for (day, agent), seconds in occupancy(plan, w).items()}
    got = {(r.day, r.agent_id): (r.handled, r.replies, r.first_responses, r.median_first_response_seconds,
                                 r.resolutions, r.online_seconds, r.busy_seconds)
           for r in AgentDayFact.objects.filter(workspace_id=f.workspace_id)}
    assert got == {key: (len(v["handled"]), v["replies"], len(v["first"]), rank(v["first"], 50), v["resolutions"],
                         *online.get(key, (0, 0)))
                   for key, v in (agent_days | {key: agent_days[key] for key in online}).items()}


def middle(value):
    """The documented histogram: exact under 128 s, else 64 buckets per doubling; the bucket's middle."""
    if value is None:
        return None
    width = 1 << max(0, value.bit_length() - 7)
    return value // width * width + width // 2


def test_rollups_past_the_exact_limit(month, monkeypatch):
    """With every percentile read from the rollups' histograms: the middle of the nearest-rank value's bucket;
    two filters read the facts, exactly."""
    from threadline.analytics import rollups

    plan, w, f = month
    monkeypatch.setattr(rollups, "EXACT_LIMIT", 0)
    first, res, firsts = [], [], defaultdict(list)
    for p in plan.conversations:
        replies = agent_steps(p)
        if replies:
            first.append(60 * (replies[0].minute - p.start))
            firsts[w.agent_ids[replies[0].agent]].append(first[-1])
        if first_resolution(p) is not None:
            res.append(60 * (first_resolution(p) - p.start))
    got = metrics.first_response(f)
    assert (got["count"], got["median"], got["p90"]) == (len(first), middle(rank(first, 50)), middle(rank(first, 90)))
    assert middle(rank(first, 90)) != rank(first, 90)  # the month has values the histogram rounds
    got = metrics.resolution(f)
    assert (got["count"], got["median"], got["p90"]) == (len(res), middle(rank(res, 50)), middle(rank(res, 90)))
    assert {row["agent_id"]: row["median_first_response_seconds"] for row in metrics.agents(f)
            if row["first_responses"]} == {agent: middle(rank(values, 50)) for agent, values in firsts.items()}
    both = Filters(workspace_id=f.workspace_id, channel_id=w.channel_ids[1], language="he")
    subset = [p for p in plan.conversations
              if p.language == "he" and 1 in {s.channel for s in p.steps} | {p.origin}]
    subset_first = [60 * (agent_steps(p)[0].minute - p.start) for p in subset if agent_steps(p)]
    got = metrics.first_response(both)
    assert (got["count"], got["median"], got["p90"]) == (
        len(subset_first), rank(subset_first, 50), rank(subset_first, 90))
    # whole months from the month rows, the other days from the day rows: the same counts
    for start, end in ((dt.date(2026, 11, 1), dt.date(2026, 12, 12)), (dt.date(2026, 10, 15), dt.date(2026, 11, 30)),
                       (dt.date(2026, 11, 5), dt.date(2026, 11, 20)), (dt.date(2026, 11, 30), dt.date(2026, 12, 1))):
        chosen = [p for p in plan.conversations if start <= local(p.start).date() <= end]
        switched = sum(1 for p in chosen if len({s.channel for s in p.steps} | {p.origin}) > 1)
        assert metrics.channel_switch(Filters(workspace_id=f.workspace_id, start=start, end=end)) == {
            "conversations": len(chosen), "switched": switched, "rate": ratio(switched, len(chosen))}, (start, end)
        assert chosen


def expected_surveys(subset):
    """Per kind, from the plan: sent = surveys not held by quiet hours; CSAT = scores 4-5 / answers; NPS =
    100 x (9-10 minus 0-6) / answers; CES = the mean."""
    out = {}
    for kind in ("csat", "ces", "nps"):
        plans = [p.survey for p in subset if p.survey and p.survey[0] == kind]
        sent = sum(1 for _k, held, _s in plans if not held)
        scores = [score for _k, _h, score in plans if score is not None]
        figure = {"sent": sent, "responses": len(scores), "response_rate": ratio(len(scores), sent)}
        if kind == "csat":
            satisfied = sum(1 for x in scores if x >= 4)
            figure.update(satisfied=satisfied, csat=ratio(satisfied, len(scores)))
        elif kind == "nps":
            promoters, detractors = sum(1 for x in scores if x >= 9), sum(1 for x in scores if x <= 6)
            figure.update(promoters=promoters, detractors=detractors,
                          nps=round(100 * (promoters - detractors) / len(scores), 1) if scores else None)
        else:
            figure.update(average=round(sum(scores) / len(scores), 2) if scores else None)
        out[kind] = figure
    return out


def test_survey_figures_from_the_rollups_and_the_facts(month):
    """CSAT, NPS, CES and response rates (answered / actually sent: a survey held by quiet hours is not sent)
    under no filter, a week, one channel (rollups) and two filters (facts)."""
    plan, w, f = month
    assert {p.survey[1] for p in plan.conversations if p.survey} == {True, False}  # the month holds some back
    start, end = local(7 * 1440).date(), local(13 * 1440).date()
    uses = lambda p, i: i in {s.channel for s in p.steps} | {p.origin}  # noqa: E731
    cases = [
        (f, plan.conversations),
        (Filters(workspace_id=f.workspace_id, start=start, end=end),
         [p for p in plan.conversations if start <= local(p.start).date() <= end]),
        (Filters(workspace_id=f.workspace_id, channel_id=w.channel_ids[1]), [p for p in plan.conversations if uses(p, 1)]),
        (Filters(workspace_id=f.workspace_id, channel_id=w.channel_ids[1], language="he"),
         [p for p in plan.conversations if uses(p, 1) and p.language == "he"]),
    ]
    for filters, subset in cases:
        assert survey_metrics.surveys(filters) == expected_surveys(subset), filters
    whole = expected_surveys(plan.conversations)
    assert all(whole[k]["responses"] > 0 and whole[k]["sent"] > whole[k]["responses"] for k in whole)


def test_the_raw_facts_carry_the_survey_answers(month):
    from threadline.analytics.models import ConversationFact
    from threadline.analytics.queries import fact_row

    plan, w, _f = month
    rows = {r["conversation_id"]: r for r in map(fact_row, ConversationFact.objects.filter(pk__in=w.conversation_ids))}
    for p, pk in zip(plan.conversations, w.conversation_ids, strict=True):
        kind, held, score = p.survey or ("", True, None)
        assert rows[pk]["surveys_sent"] == (0 if held else 1)
        assert {k: rows[pk][f"{k}_scores"] for k in ("csat", "nps", "ces")} == {
            k: ([score] if k == kind and score is not None else []) for k in ("csat", "nps", "ces")}


def test_backlog_by_channel_tag_and_agent(month):
    """The backlog's set filters (channel used, tag: jsonb containment on PostgreSQL, in Python on SQLite) and
    its scalar ones, against the plan."""
    plan, w, f = month
    open_ = [p for p in plan.conversations if not (p.changes and p.changes[-1].resolves)]
    cases = [
        (Filters(workspace_id=f.workspace_id, channel_id=w.channel_ids[1]),
         [p for p in open_ if 1 in {s.channel for s in p.steps} | {p.origin}]),
        (Filters(workspace_id=f.workspace_id, tag="vip"), [p for p in open_ if "vip" in p.tags]),
        (Filters(workspace_id=f.workspace_id, channel_id=w.channel_ids[0], tag="billing"),
         [p for p in open_ if "billing" in p.tags and 0 in {s.channel for s in p.steps} | {p.origin}]),
        (Filters(workspace_id=f.workspace_id, agent_id=w.agent_ids[2]),
         [p for p in open_ if p.assignees and p.assignees[-1][1] == 2]),
    ]
    for filters, subset in cases:
        ages = [int((AS_OF - at(p.start)).total_seconds()) for p in subset]
        got = metrics.backlog(filters, AS_OF)
        assert (got["open"], got["median_age_seconds"]) == (len(ages), rank(ages, 50)), filters
        assert 0 < len(subset) < len(open_)
