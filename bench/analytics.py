"""Benchmark: the analytics metrics at size, in process, on SQLite or PostgreSQL.

Seeds one workspace through `threadline.testing.bulk` (`--size` conversations, about three messages each, spread
over two years, a channel each in turn of three) plus one timeline row per solved or closed conversation (bulk
seeding writes none, and resolutions come from the timeline), then builds the facts from scratch
(`analytics.refresh.rebuild`, timed) and times, one call at a time (latency, not throughput), every metric of
`analytics.metrics` under four filter sets: none (every conversation), the last 30 days, one channel (used), one
agent. Then the cost of keeping facts up to date: the subscriber's mark per event (statements and time) and the
refresh per stale conversation. Nothing is asserted; quote the load average printed beside the figures.

    python bench/analytics.py --size 100000                 # SQLite in a temporary directory
    python bench/analytics.py --size 1000000 --keep         # prints the directory; --reuse DIR runs again
    python bench/analytics.py --postgres --size 1000000     # database `bench_search` on 127.0.0.1:5432
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


def measure(samples: int) -> None:
    from threadline.analytics import metrics
    from threadline.analytics.metrics import Filters
    from threadline.analytics.models import ConversationFact
    from threadline.core.time import now
    from threadline.tenancy.models import Membership

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
        "channel days": metrics.channel_days,
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


def update_cost(samples: int) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from threadline.analytics.models import ConversationFact
    from threadline.analytics.refresh import refresh_stale
    from threadline.analytics.subscribers import on_event

    ws, ids = None, []
    for workspace_id, pk in ConversationFact.objects.order_by("-pk").values_list("workspace_id", "pk")[:samples]:
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
        if args.seed_only:
            return
        measure(args.samples)
        update_cost(min(500, args.samples * 25))
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    main()
