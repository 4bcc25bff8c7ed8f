"""Benchmark: the analytics metrics at size, in process, on SQLite or PostgreSQL.

Seeds one workspace through `threadline.testing.bulk` (`--size` conversations, about three messages each, spread
over two years, a channel each in turn of three) plus one timeline row per solved or closed conversation (bulk
seeding writes none, and resolutions come from the timeline), then builds the facts from scratch
(`analytics.refresh.rebuild`, timed) and times, one call at a time (latency, not throughput), every metric of
`analytics.metrics` under four filter sets: none (every conversation), the last 30 days, one channel (used), one
agent. Then the cost of keeping facts up to date: the subscriber's mark per event (statements and time) and the
refresh per stale conversation. Nothing is asserted; quote the load average printed beside the figures.

`--synthetic N` adds N conversation facts written directly (no conversation rows, foreign-key checks off while
they are written) on top of `--size` real conversations, plus their channel, tag, channel-day and agent-day
facts, then builds the rollups (timed): the metrics read only the fact and rollup tables, so their cost at a
million conversations is measured without seeding and rebuilding a million conversations with their messages
(hours on a shared 2-core machine). The update cost is measured on the real conversations, whose days hold the
synthetic facts too.

    python bench/analytics.py --size 100000                 # SQLite in a temporary directory
    python bench/analytics.py --size 1000000 --keep         # prints the directory; --reuse DIR runs again
    python bench/analytics.py --size 2000 --synthetic 998000 --postgres postgres://postgres@127.0.0.1:5432/bench_analytics
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import time
from collections.abc import Callable

from search import configure, load, say, timed  # bench/search.py: the same database set-up and timing


def seed(size: int) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from threadline.conversations.models import Conversation, ConversationEvent
    from threadline.testing import bulk, factories

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    admin = factories.make_workspace("Analytics Bench")
    channels = [factories.make_api_channel(admin) for _ in range(3)]
    seeded = bulk.seed(admin, channels, size, progress=lambda done: done % 100_000 == 0 and say(f"  {done}/{size}"))
    say(f"seeded {seeded.conversations} conversations, {seeded.messages} messages ({time.monotonic() - started:.0f} s)")
    rows = Conversation.objects.filter(workspace_id=admin.workspace_id, solved_at__isnull=False).values_list(
        "pk", "status", "solved_at")
    batch: list[ConversationEvent] = []
    with bulk.given_times(ConversationEvent):
        for pk, status, solved_at in rows.iterator(chunk_size=5000):
            batch.append(ConversationEvent(workspace_id=admin.workspace_id, conversation_id=pk, kind="status_changed",
                                           actor_id=admin.pk, data={"old": "open", "new": status},
                                           created_at=solved_at, updated_at=solved_at))
            if len(batch) == 5000:
                with transaction.atomic():
                    ConversationEvent.objects.bulk_create(batch)
                batch = []
        with transaction.atomic():
            ConversationEvent.objects.bulk_create(batch)
    say(f"timeline rows written ({time.monotonic() - started:.0f} s)")


SYNTHETIC_START = 100_000_000  # the synthetic facts' conversation ids, far above the real ones


def synthetic(size: int) -> None:
    """`size` conversation facts over the last two years, written directly (see the module docstring)."""
    import random

    from django.db import connection, transaction

    from threadline.analytics.facts import local_day, zone_of
    from threadline.analytics.models import (
        AgentDayFact,
        ChannelDayFact,
        ConversationFact,
        FactChannel,
        FactTag,
    )
    from threadline.channels.models import Channel
    from threadline.core.time import now
    from threadline.tenancy.models import Membership

    started = time.monotonic()
    admin = Membership.objects.select_related("workspace").order_by("pk").first()
    ws, zone = admin.workspace_id, zone_of(admin.workspace_id)
    channels = list(Channel.objects.filter(workspace_id=ws).order_by("pk").values_list("pk", flat=True))
    agents = [admin.pk, *range(SYNTHETIC_START, SYNTHETIC_START + 4)]
    rng, end = random.Random(14), now()
    first = end - dt.timedelta(days=730)
    step = dt.timedelta(days=730) / size
    channel_days: dict[tuple[dt.date, int], list[int]] = {}
    agent_days: dict[tuple[dt.date, int], list[int]] = {}

    def fact(i: int) -> ConversationFact:
        created = first + step * i
        local = created.astimezone(zone)
        day = local.date()
        origin = channels[i % len(channels)]
        used = sorted({origin, channels[(i + 1) % len(channels)]}) if rng.random() < 0.1 else [origin]
        agent = agents[rng.randrange(len(agents))]
        active = i >= size - min(5000, max(100, size // 100))
        fr = 30 + int(rng.expovariate(1 / 3600)) if rng.random() < 0.9 else None
        resolved = not active
        reopened = resolved and rng.random() < 0.1
        res = (fr or 0) + 60 + int(rng.expovariate(1 / 86_400)) if resolved else None
        outcome = rng.choice(("resolved", "handed_over", "abandoned")) if rng.random() < 0.2 else ""
        policy = rng.random() < 0.5
        surveys = {}
        if resolved and rng.random() < 0.4:  # a survey on 40 % of the resolved, 60 % of them answered
            kind = ("csat", "nps", "ces")[i % 3]
            scale = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}[kind]
            surveys = {kind: {"sent": 1, "scores": [rng.randint(*scale)] if rng.random() < 0.6 else []}}
        counts = channel_days.setdefault((day, origin), [0, 0, 0])
        counts[0] += 1
        counts[1] += 2
        counts[2] += 1
        if fr is not None:
            a = agent_days.setdefault((day, agent), [0, 0])
            a[0] += 1
            a[1] += 1
        return ConversationFact(
            conversation_id=SYNTHETIC_START + i, workspace_id=ws, contact_id=SYNTHETIC_START + i // 2,
            origin_channel_id=origin, channels_used=used, channel_count=len(used),
            language=("en", "he", "fr", "de", "th")[i % 5], tags=["vip"] if i % 5 == 0 else [],
            status="open" if active else "closed", is_active=active, first_assignee_id=agent,
            last_assignee_id=agent, assignee_count=1, created_at=created, created_day=day,
            created_week=day - dt.timedelta(days=day.weekday()), created_hour=local.hour,
            first_response_at=created + dt.timedelta(seconds=fr) if fr is not None else None,
            first_responder_id=agent if fr is not None else None, first_response_seconds=fr,
            first_response_business_seconds=fr * 3 // 5 if fr is not None else None,
            next_response_seconds=[int(rng.expovariate(1 / 1800)) for _ in range(rng.randrange(3))],
            resolutions=(2 if reopened else 1) if resolved else 0, reopens=1 if reopened else 0,
            first_resolved_at=created + dt.timedelta(seconds=res) if res else None,
            last_resolved_at=created + dt.timedelta(seconds=res) if res else None,
            resolution_seconds=res, resolution_business_seconds=res * 3 // 5 if res else None,
            resolution_spans=[res] if res else [], replies_before_resolution=1 + (i % 3 == 0),
            messages_contact=2, messages_agent=1, bot_outcome=outcome,
            sla_policy_id=1 if policy else None, sla_first_response=rng.choice(("met", "breached")) if policy else "",
            sla_resolution=rng.choice(("met", "breached", "running")) if policy else "",
            repeat_gap_seconds=rng.randint(600, 60 * 86_400) if i % 2 == 0 and rng.random() < 0.4 else None,
            explain_twice_gap_seconds=rng.randint(600, 10 * 86_400) if rng.random() < 0.05 else None,
            surveys=surveys, computed_at=end)

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # no conversation rows behind these facts
            cursor.execute("SET session_replication_role = replica")
    with connection.constraint_checks_disabled():
        for start in range(0, size, 5000):
            batch = [fact(i) for i in range(start, min(size, start + 5000))]
            with transaction.atomic():
                ConversationFact.objects.bulk_create(batch)
                FactChannel.objects.bulk_create([
                    FactChannel(fact_id=f.conversation_id, workspace_id=ws, channel_id=c, created_day=f.created_day)
                    for f in batch for c in f.channels_used])
                FactTag.objects.bulk_create([FactTag(fact_id=f.conversation_id, workspace_id=ws, tag=t,
                                                     created_day=f.created_day) for f in batch for t in f.tags])
            if (start + 5000) % 100_000 == 0:
                say(f"  synthetic facts: {start + 5000}/{size} ({time.monotonic() - started:.0f} s)")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
    with transaction.atomic():
        ChannelDayFact.objects.bulk_create([
            ChannelDayFact(workspace_id=ws, channel_id=c, day=d, new_conversations=n, inbound=i, outbound=o,
                           unique_contacts=n) for (d, c), (n, i, o) in channel_days.items()],
            ignore_conflicts=True, batch_size=2000)
        AgentDayFact.objects.bulk_create([
            AgentDayFact(workspace_id=ws, agent_id=a, day=d, handled=h, replies=r, first_responses=h)
            for (d, a), (h, r) in agent_days.items()], ignore_conflicts=True, batch_size=2000)
    say(f"wrote {size} synthetic facts ({time.monotonic() - started:.0f} s); last local day {local_day(end, zone)}")


def build_rollups() -> None:
    from django.db import transaction

    from threadline.analytics import rollups
    from threadline.tenancy.models import Membership

    started = time.monotonic()
    with transaction.atomic():
        days = rollups.rebuild(Membership.objects.order_by("pk").first().workspace_id)
    say(f"rollups of {days} days built in {time.monotonic() - started:.0f} s")


def measure(samples: int) -> None:
    from threadline.analytics import metrics, survey_metrics
    from threadline.analytics.alerts import current_value
    from threadline.analytics.facts import zone_of
    from threadline.analytics.metrics import Filters
    from threadline.analytics.models import AlertRule, ConversationFact
    from threadline.core.time import now
    from threadline.tenancy.models import Membership
    from threadline.web.reports_figures import overview_with_surveys

    admin = Membership.objects.select_related("workspace").order_by("pk").first()
    ws = admin.workspace_id
    channel = ConversationFact.objects.filter(workspace_id=ws).values_list("origin_channel_id", flat=True).first()
    today = now().date()
    filter_sets = {"all": Filters(ws), "30 days": Filters(ws, start=today - dt.timedelta(days=30), end=today),
                   "channel": Filters(ws, channel_id=channel), "agent": Filters(ws, agent_id=admin.pk)}
    calls: dict[str, Callable[[Filters], object]] = {
        "volume by day": lambda f: metrics.volume(f, "day"), "volume by hour": lambda f: metrics.volume(f, "hour"),
        "first response": metrics.first_response, "next response": metrics.next_response,
        "resolution": metrics.resolution, "reopen rate": metrics.reopen_rate,
        "first-contact resolution": metrics.first_contact_resolution, "repeat contact": metrics.repeat_contact,
        "channel switch": metrics.channel_switch, "explain twice": metrics.explain_twice, "bot": metrics.bot,
        "sla": metrics.sla, "backlog": metrics.backlog, "agents": metrics.agents,
        "channel days": metrics.channel_days, "surveys": survey_metrics.surveys,
        "reports page figures": lambda f: overview_with_surveys(f, 7),
    }
    say(f"\nload average {load()}; {samples} calls each; p50 / p99 in ms")
    say(f"| metric | {' | '.join(filter_sets)} |")
    say("|---|" + "---|" * len(filter_sets))
    for name, call in calls.items():
        cells = []
        for f in filter_sets.values():
            p50, p99 = timed(samples, lambda c=call, f=f: c(f))
            cells.append(f"{p50:.1f} / {p99:.1f}")
        say(f"| {name} | {' | '.join(cells)} |")
    zone = zone_of(ws)
    for hours, metric in ((4, "csat"), (24, "csat"), (4, "first_response_median")):
        rule = AlertRule(workspace_id=ws, name="bench", metric=metric, comparison="below", threshold=80,
                         window_hours=hours)
        p50, p99 = timed(samples, lambda r=rule: current_value(r, zone))
        say(f"alert {metric}, last {hours} hours: {p50:.1f} / {p99:.1f}")


def update_cost(samples: int) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from threadline.analytics.models import ConversationFact
    from threadline.analytics.refresh import refresh_stale
    from threadline.analytics.subscribers import on_event

    ws, ids = None, []
    for workspace_id, pk in ConversationFact.objects.filter(pk__lt=SYNTHETIC_START).order_by("-pk").values_list(
            "workspace_id", "pk")[:samples]:
        ws = workspace_id
        ids.append(pk)
    started = time.perf_counter()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        for n, pk in enumerate(ids):
            on_event("message.received", {"workspace_id": ws, "conversation_id": pk}, n)
    marked = time.perf_counter() - started
    say(f"\nsubscriber: {len(queries.captured_queries) / len(ids):.1f} statements and "
        f"{marked / len(ids) * 1000:.3f} ms per event")
    started = time.perf_counter()
    done = refresh_stale(len(ids))
    say(f"refresh: {done} stale conversations (and their contacts' others) in {time.perf_counter() - started:.2f} s, "
        f"{(time.perf_counter() - started) / max(done, 1) * 1000:.1f} ms each; load average {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="conversations (100,000)")
    parser.add_argument("--samples", type=int, default=20, help="timed calls per metric and filter set (20)")
    parser.add_argument("--postgres", nargs="?", const="default", default=None, help="PostgreSQL database URL")
    parser.add_argument("--reuse", help="an already seeded data directory (SQLite) or database name (PostgreSQL)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite data directory")
    parser.add_argument("--seed-only", action="store_true", help="seed and build the facts, measure nothing")
    parser.add_argument("--synthetic", type=int, default=0, help="conversation facts written directly (0)")
    parser.add_argument("--update-samples", type=int, default=500, help="events and stale conversations for the "
                        "update cost (500)")
    args = parser.parse_args()
    temporary = configure(args)
    try:
        if not args.reuse:
            seed(args.size)
            from threadline.analytics.refresh import rebuild
            from threadline.tenancy.models import Workspace

            started = time.monotonic()
            counts = rebuild(Workspace.objects.get(name="Analytics Bench").pk, chunk=2000,
                             report=lambda kind, done: done % 50_000 == 0 and say(f"  facts: {done} {kind}"))
            say(f"rebuilt the facts: {counts} in {time.monotonic() - started:.0f} s")
            if args.synthetic:
                synthetic(args.synthetic)
                build_rollups()
        else:
            from django.core.management import call_command
            from django.db import connection

            from threadline.analytics.models import DayRollup

            if DayRollup._meta.db_table not in connection.introspection.table_names():
                call_command("migrate", verbosity=0)  # (a later migration's SQLite check would trip on --synthetic)

            if not DayRollup.objects.exists():
                build_rollups()
        if args.seed_only:
            return
        measure(args.samples)
        update_cost(args.update_samples)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    main()
