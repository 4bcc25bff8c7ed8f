"""Benchmark: the work one inbound message and one agent reply cost, counted in one process.

Load-independent figures for a shared or noisy machine: SQL statements, durable jobs and Python function
calls per message (repeatable whatever else runs), and the CPU time of the thread doing the work
(`time.thread_time`, which other processes' load inflates only a little). Everything runs in this one
process, on SQLite in a temporary data directory (or a throwaway PostgreSQL database, --database-url):

- inbound: N signed messages from M senders POSTed to the API channel's webhook through Django's test client
  (the whole middleware stack, no HTTP server), then the worker runs every job until none is left;
- email: N emails from M senders (a share of them replies naming an earlier one in In-Reply-To/References)
  through the SMTP edge's own handlers (`smtp_server.check_recipient` for RCPT TO, `smtp_server.deliver` for
  DATA: routing, the size check, the raw message and its job committed), without aiosmtpd's socket; then the
  worker runs every job until none is left (MIME parsing, threading, the subscribers);
- replies: R agents' replies POSTed to `/api/v1/conversations/<id>/messages`, then the worker delivers them
  to a loopback receiver (the provider), one HTTP request each. The worker sends them from threads of their
  own (`channels.outbound.deliver_message_jobs`): "all threads" is the process's CPU over the phase, theirs
  and the receiver's included (statements are counted on the worker's thread only: the API channel's sends
  read nothing).

`--claim-size 1` has the worker claim one job at a time, as it does when messages arrive one by one (a paced
rate below what it processes): what a claim and its transaction cost then falls on every message.
`--profile inbound|email|replies` prints the worker's top functions (cProfile) for that phase. Under valgrind,
`--callgrind` counts instructions per phase, which is repeatable however loaded the machine is:

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.%p \
        python bench/cost.py --callgrind --messages 50 --replies 50
    callgrind_annotate /tmp/cg.<pid>.<n> | head   # one file per phase, in the order printed

Timing benchmarks
(`ingest.py`, `replies.py`, `compare.py`) are for an idle machine; this one is for comparing changes.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

TEXTS = ("Hi, my order #{n} arrived damaged", "שלום, ההזמנה {n} שלי לא הגיעה", "سلام، سفارش {n} من نرسیده",
         "สวัสดีค่ะ คำสั่งซื้อ {n}", "Dobrý den, objednávka {n} nedorazila")


def setup_django(data_dir: Path, database_url: str | None) -> None:
    os.environ.update(THREADLINE_DATA_DIR=str(data_dir), THREADLINE_LOG_LEVEL="WARNING",
                      THREADLINE_OUTBOUND_ALLOW_PRIVATE="1", THREADLINE_API_RATE_LIMIT="100000000",
                      DJANGO_SETTINGS_MODULE="threadline.config.settings")
    if database_url:
        os.environ["THREADLINE_DATABASE_URL"] = database_url
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


class Meter:
    """Counts SQL statements, CPU time of this thread, and optionally profiles, over a `with` block."""

    callgrind = False  # `--callgrind`: count this block's instructions (the process runs under valgrind)

    def __init__(self, profile: bool = False) -> None:
        self.statements = 0
        self.cpu = 0.0
        self.process_cpu = 0.0  # every thread's: the sender threads of deliveries (and the loopback receiver)
        self.profile = cProfile.Profile() if profile else None
        self.calls = 0
        self.shapes: Counter[str] = Counter()

    def _count(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.statements += 1
        self.shapes[re.sub(r'"s\d+_x\d+"', "sN", " ".join(sql.split()))[:150]] += 1
        return execute(sql, params, many, context)

    @contextlib.contextmanager
    def measure(self) -> Iterator[None]:
        from django.db import connection

        if Meter.callgrind:
            subprocess.run(["callgrind_control", "--instr=on", str(os.getpid())], check=True, capture_output=True)
        started, process_started = time.thread_time(), time.process_time()
        with connection.execute_wrapper(self._count):
            if self.profile:
                self.profile.enable()
            try:
                yield
            finally:
                if self.profile:
                    self.profile.disable()
        self.cpu += time.thread_time() - started
        self.process_cpu += time.process_time() - process_started
        if Meter.callgrind:
            subprocess.run(["callgrind_control", "--dump", str(os.getpid())], check=True, capture_output=True)
            subprocess.run(["callgrind_control", "--instr=off", str(os.getpid())], check=True, capture_output=True)

    def top(self, limit: int = 40) -> str:
        assert self.profile is not None
        out = io.StringIO()
        stats = pstats.Stats(self.profile, stream=out)
        stats.sort_stats("tottime").print_stats(limit)
        stats.sort_stats("cumulative").print_stats(limit)
        return out.getvalue()

    def total_calls(self) -> int:
        if self.profile is None:
            return 0
        return pstats.Stats(self.profile).total_calls  # type: ignore[attr-defined]


CLAIM_SIZE = 0  # --claim-size: jobs per claim in the measured phases (0: the worker's own BATCH_SIZE)


def run_worker(claim_size: int = 0) -> int:
    from threadline.jobs.worker import BATCH_SIZE, Worker

    return Worker(worker_id="bench:0:0", batch_size=claim_size or BATCH_SIZE).run_until_idle(1_000_000)


def new_jobs(before: int) -> Counter[str]:
    from threadline.jobs.models import Job

    return Counter(Job.objects.filter(pk__gt=before).values_list("task", flat=True))


def last_job() -> int:
    from threadline.jobs.models import Job

    return Job.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def post_messages(client: Any, channel: Any, start: int, count: int, senders: int) -> None:
    from threadline.testing.factories import signed_body

    for n in range(start, start + count):
        body, headers = signed_body(channel, {
            "message_id": f"cost-{n}", "text": TEXTS[n % len(TEXTS)].format(n=n),
            "sender": {"kind": "email", "address": f"customer{n % senders}@example.com", "verified": True},
        })
        answer = client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json", **headers)
        assert answer.status_code == 202, answer.content


def inbound(messages: int, senders: int, profile: bool) -> dict[str, Any]:
    from django.test import Client

    from threadline.testing.factories import make_api_channel, make_workspace

    admin = make_workspace()
    channel = make_api_channel(admin)
    client = Client()
    # warm-up, one message per language: the language model, the Thai segmenter's dictionary, the caches
    post_messages(client, channel, -len(TEXTS), len(TEXTS), senders)
    run_worker()
    before = last_job()
    accept, process = Meter(), Meter(profile)
    with accept.measure():
        post_messages(client, channel, 1, messages, senders)
    with process.measure():
        run_worker(CLAIM_SIZE)
    jobs = new_jobs(before)
    return {"messages": messages, "accept": accept, "process": process, "jobs": jobs}


def build_email(n: int, senders: int, replies: float) -> tuple[bytes, str]:
    """Raw bytes of email `n` and its envelope sender; a share `replies` answer the same sender's earlier one."""
    from email_ingest import compose  # bench/, this script's folder

    answered = n - senders if n >= senders and n % 10 < replies * 10 else None
    who = n % senders
    return bytes(compose(n, who, answered, prefix="cost")), f"customer{who}@example.com"


def send_emails(emails: list[tuple[bytes, str]]) -> None:
    """Each email through the SMTP edge's handlers, as one SMTP transaction runs them (RCPT TO, then DATA)."""
    from threadline.channels.email import smtp_server

    routed = _takes_routes()
    for raw, sender in emails:
        answer, route = smtp_server.check_recipient("support@acme.example.com", sender)
        assert answer.startswith("250"), answer
        answer = smtp_server.deliver(raw, sender, ["support@acme.example.com"], "127.0.0.1", *(
            [{"support@acme.example.com": route}] if routed else []))
        assert answer.startswith("250"), answer


def _takes_routes() -> bool:  # older trees' `deliver` routed again (for a before/after run from this bench)
    import inspect

    from threadline.channels.email import smtp_server

    return "routed" in inspect.signature(smtp_server.deliver).parameters


def build_emails(start: int, count: int, senders: int, replies: float) -> list[tuple[bytes, str]]:
    return [build_email(n, senders, replies) for n in range(start, start + count)]


def emails(messages: int, senders: int, profile: bool) -> dict[str, Any]:
    from django.db import transaction

    from threadline.channels.email.testkit import make_email_channel
    from threadline.testing.factories import make_workspace

    with transaction.atomic():
        admin = make_workspace()
    make_email_channel(admin, "support@acme.example.com", sender_rate_limit_per_hour=100_000)
    # warm-up, one message per language: the language model, the Thai segmenter's dictionary, the caches
    send_emails(build_emails(-len(TEXTS) - senders, len(TEXTS), senders, 0))
    run_worker()
    before = last_job()
    accept, process = Meter(PROFILE_ACCEPT), Meter(profile)
    batch = build_emails(0, messages, senders, 0.3)  # built before: the client's work, not the edge's
    with accept.measure():
        send_emails(batch)
    with process.measure():
        run_worker(CLAIM_SIZE)
    jobs = new_jobs(before)
    return {"messages": messages, "accept": accept, "process": process, "jobs": jobs}


def replies(count: int, conversations: int, profile: bool) -> dict[str, Any]:
    from django.test import Client

    from threadline.conversations.models import Conversation
    from threadline.testing.factories import make_api_channel, make_token, make_workspace
    from threadline.testing.receiver import Receiver

    receiver = Receiver().start()
    try:
        admin = make_workspace()
        channel = make_api_channel(admin, webhook_url=receiver.url)
        token = make_token(admin)
        client = Client()
        post_messages(client, channel, 0, conversations, conversations)
        run_worker()
        ids = list(Conversation.objects.filter(workspace=admin.workspace).order_by("pk").values_list("pk", flat=True))
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

        def post(number: int) -> None:
            answer = client.post(f"/api/v1/conversations/{ids[number % len(ids)]}/messages",
                                 json.dumps({"text": f"Reply {number}: we are on it."}),
                                 content_type="application/json", **auth)
            assert answer.status_code == 201, answer.content

        post(0)  # warm-up
        run_worker()
        receiver.wait_for(1)
        before, arrived = last_job(), len(receiver.requests)
        accept, process = Meter(), Meter(profile)
        with accept.measure():
            for number in range(1, count + 1):
                post(number)
        with process.measure():
            run_worker()
        delivered = len(receiver.requests) - arrived
        jobs = new_jobs(before)
    finally:
        receiver.stop()
    return {"messages": count, "accept": accept, "process": process, "jobs": jobs, "delivered": delivered}


PROFILE_FILE = ""
PROFILE_ACCEPT = False  # --profile-accept: profile the email edge's handlers instead (printed after processing)


def report(name: str, result: dict[str, Any]) -> None:
    n = result["messages"]
    accept, process, jobs = result["accept"], result["process"], result["jobs"]
    print(f"{name}: {n} messages")  # noqa: T201 - the bench's output
    print(f"  accept   SQL/msg {accept.statements / n:6.1f}   CPU ms/msg {accept.cpu * 1000 / n:6.2f}")  # noqa: T201
    calls = f"   calls/msg {process.total_calls() / n:8.0f}" if process.profile else ""
    print(f"  process  SQL/msg {process.statements / n:6.1f}   CPU ms/msg {process.cpu * 1000 / n:6.2f}{calls}"  # noqa: T201
          f"   (all threads {process.process_cpu * 1000 / n:.2f})")
    print(f"  jobs/msg {sum(jobs.values()) / n:.2f} {dict(jobs)}")  # noqa: T201
    if "delivered" in result:
        print(f"  delivered {result['delivered']}/{n}")  # noqa: T201
    if process.profile:
        print(process.top())  # noqa: T201
        if PROFILE_FILE:
            process.profile.dump_stats(PROFILE_FILE)
    if accept.profile:
        print("accept:", accept.top())  # noqa: T201
    if result.get("sql"):
        for label, meter in (("accept", accept), ("process", process)):
            print(f"  {label}: statements per message by shape")  # noqa: T201
            for shape, seen in meter.shapes.most_common():
                print(f"    {seen / n:5.2f}  {shape}")  # noqa: T201


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--emails", type=int, default=200)
    parser.add_argument("--only", choices=["inbound", "email", "replies"])
    parser.add_argument("--profile", choices=["inbound", "email", "replies"])
    parser.add_argument("--profile-accept", action="store_true", help="profile the email edge's handlers too")
    parser.add_argument("--profile-file", help="with --profile: also write the pstats data here")
    parser.add_argument("--callgrind", action="store_true", help="running under valgrind: one dump per phase")
    parser.add_argument("--sql", action="store_true", help="print the statements per message, by shape")
    parser.add_argument("--claim-size", type=int, default=0, metavar="N",
                        help="inbound and email: the worker claims N jobs at a time (1: as under paced traffic, where "
                             "each message is claimed alone; default: the worker's batch size)")
    parser.add_argument("--database-url", help="PostgreSQL server (a throwaway database is created on it)")
    args = parser.parse_args()
    Meter.callgrind = args.callgrind
    global PROFILE_FILE  # noqa: PLW0603 - a flag read by report()
    PROFILE_FILE = args.profile_file or ""
    global PROFILE_ACCEPT  # noqa: PLW0603
    PROFILE_ACCEPT = args.profile_accept
    global CLAIM_SIZE  # noqa: PLW0603
    CLAIM_SIZE = args.claim_size
    data_dir = Path(tempfile.mkdtemp(prefix="threadline-cost-"))
    try:
        from threadline.testing.server import throwaway_database

        with throwaway_database(args.database_url, prefix="tlcost") as url:
            setup_django(data_dir, url)
            if args.callgrind:  # batches as long as without valgrind's slowdown (they end after BATCH_SECONDS)
                from threadline.jobs import worker

                worker.BATCH_SECONDS = 600
            if args.only in (None, "inbound"):
                report("inbound", {**inbound(args.messages, args.senders, args.profile == "inbound"), "sql": args.sql})
            if args.only in (None, "email"):
                report("email", {**emails(args.emails, args.senders, args.profile == "email"), "sql": args.sql})
            if args.only in (None, "replies"):
                report("replies", {**replies(args.replies, args.conversations, args.profile == "replies"), "sql": args.sql})
            from django.db import connections

            connections.close_all()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
