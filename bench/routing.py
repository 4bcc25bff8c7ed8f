"""Routing decisions per second with 500 agents and 10,000 open conversations.

    .venv/bin/python bench/routing.py                      # a throwaway SQLite database in a temp dir
    THREADLINE_DATABASE_URL=postgres://... .venv/bin/python bench/routing.py   # an EMPTY PostgreSQL database

Builds one workspace with 500 online agents in one team (the worst case: every decision weighs all 500),
10,000 open conversations already assigned across them (their load), then routes N new conversations
with each policy, each decision in its own transaction as the worker does, and prints decisions/second
and latency percentiles. A decision includes its writes: the assignment, its timeline row, the outbox
event with its subscriber jobs, and the RoutingDecision row.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def setup_django() -> None:
    if not os.environ.get("THREADLINE_DATABASE_URL"):
        os.environ["THREADLINE_DATA_DIR"] = tempfile.mkdtemp(prefix="threadline-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.config.settings")
    os.environ.setdefault("THREADLINE_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(agents: int, open_conversations: int) -> tuple[object, object, list[object]]:
    from django.db import transaction

    from threadline.channels.models import Channel
    from threadline.contacts.models import Contact
    from threadline.conversations.models import Conversation, Status
    from threadline.routing.models import AgentProfile, Presence, TeamPolicy
    from threadline.tenancy.models import Membership, Team, User, Workspace

    languages = ["en", "he", "fa", "th", "cs"]
    with transaction.atomic():
        workspace = Workspace.objects.create(name="Bench", slug=f"bench-{int(time.time())}")
        users = User.objects.bulk_create(
            [User(email=f"agent{i}@{workspace.slug}.example", name=f"Agent {i}", password="!") for i in range(agents)])
        members = Membership.objects.bulk_create([Membership(workspace=workspace, user=u) for u in users])
        AgentProfile.objects.bulk_create([
            AgentProfile(workspace=workspace, membership=m, presence=Presence.ONLINE,
                         languages=[languages[i % 5], languages[(i + 2) % 5]], capacity={"chat": 40, "email": 40})
            for i, m in enumerate(members)])
        team = Team.objects.create(workspace=workspace, name="Everyone")
        team.members.set(members)
        policy = TeamPolicy.objects.create(workspace=workspace, team=team)
        channel = Channel.objects.create(workspace=workspace, kind="api", name="Bench")
        contact = Contact.objects.create(workspace=workspace, name="Customer")
        Conversation.objects.bulk_create([
            Conversation(workspace=workspace, contact=contact, subject=f"#{i}", status=Status.OPEN, team=team,
                         assignee=members[i % agents], origin_channel=channel, last_inbound_channel=channel,
                         language=languages[i % 5])
            for i in range(open_conversations)], batch_size=2000)
    return workspace, policy, [team, channel, contact]


def measure(policy_name: str, decisions: int, workspace: object, policy: object, extra: list[object]) -> dict[str, float]:
    from django.db import transaction

    from threadline.conversations.models import Conversation, Status
    from threadline.routing.actions import do_route

    team, channel, contact = extra
    policy.policy = policy_name
    policy.save()
    languages = ["en", "he", "fa", "th", "cs"]
    with transaction.atomic():
        fresh = Conversation.objects.bulk_create([
            Conversation(workspace=workspace, contact=contact, subject="new", status=Status.NEW, team=team,
                         origin_channel=channel, last_inbound_channel=channel, language=languages[i % 5])
            for i in range(decisions)])
    ids = [c.pk for c in fresh]
    latencies = []
    assigned = 0
    started = time.perf_counter()
    for conversation_id in ids:
        t0 = time.perf_counter()
        with transaction.atomic():
            conversation = (Conversation.objects.select_related("team", "origin_channel", "last_inbound_channel")
                            .get(pk=conversation_id))
            decision = do_route(conversation)
        latencies.append(time.perf_counter() - t0)
        assigned += bool(decision and decision.assignee_id)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "decisions": decisions, "assigned": assigned, "per_second": decisions / elapsed,
        "p50_ms": statistics.median(latencies) * 1000, "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "max_ms": latencies[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--open", type=int, default=10_000, help="open conversations already assigned")
    parser.add_argument("--decisions", type=int, default=300, help="decisions measured per policy")
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    t0 = time.perf_counter()
    workspace, policy, extra = build(args.agents, args.open)
    say(f"database: {connection.vendor}; built {args.agents} agents and {args.open} open conversations "
          f"in {time.perf_counter() - t0:.1f}s")
    say(f"{'policy':<14}{'decisions':>10}{'assigned':>10}{'per second':>12}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for name in ("round_robin", "least_loaded", "skills"):
        r = measure(name, args.decisions, workspace, policy, extra)
        say(f"{name:<14}{r['decisions']:>10}{r['assigned']:>10}{r['per_second']:>12.1f}{r['p50_ms']:>9.1f}"
              f"{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}")


if __name__ == "__main__":
    main()
