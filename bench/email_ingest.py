"""Benchmark: inbound email from SMTP clients to stored-and-threaded messages, with a share of replies.

Runs embedded mode in this process, as `threadline serve --smtp-port` does: a fresh SQLite data directory
(or --database-url for PostgreSQL), Threadline's SMTP listener on a free loopback port, and the job worker
threads of `serve` (THREADLINE_WORKER_CONCURRENCY). C concurrent smtplib clients send N messages from M
senders in several languages; a share of them (--replies) are replies whose In-Reply-To names an earlier
message. It reports:

- accepted messages/s: N divided by the time from the first connection to the last 250;
- SMTP latency (DATA sent to 250 received: the message is committed by then);
- stored-and-threaded messages/s and latency: to the `processed_at` of each InboundEvent, which the worker
  sets in the transaction that stores the Message and threads it;
- how many replies landed in the conversation of the message they answer (must be all).

Not a test: nothing is asserted. Run `python bench/email_ingest.py --help`.
"""

from __future__ import annotations

import argparse
import os
import random
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from email.message import EmailMessage

TEXTS = (
    "Hi, my order #{n} arrived damaged, can you help?",
    "שלום, ההזמנה {n} שלי עוד לא הגיעה",
    "سلام، سفارش {n} من هنوز نرسیده است",
    "สวัสดีค่ะ คำสั่งซื้อ {n} ยังไม่ได้รับเลยค่ะ",
    "Dobrý den, objednávka {n} stále nedorazila.",
)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def build(n: int, senders: int, replies: float, sent: list[int], rng: random.Random) -> tuple[EmailMessage, int | None]:
    answered = rng.choice(sent[-200:]) if sent and rng.random() < replies else None
    who = (answered if answered is not None else n) % senders  # a reply comes from the one who wrote first
    return compose(n, who, answered), answered


def compose(n: int, who: int, answered: int | None, prefix: str = "bench") -> EmailMessage:
    """Email `n` from customer `who`, a reply to email `answered` when given (also used by bench/cost.py)."""
    message = EmailMessage()
    message["From"] = f"Customer {who} <customer{who}@example.com>"
    message["To"] = "support@acme.example.com"
    message["Message-ID"] = f"<{prefix}-{n}@example.com>"
    if answered is not None:
        message["In-Reply-To"] = f"<{prefix}-{answered}@example.com>"
        message["References"] = f"<{prefix}-{answered}@example.com>"
        message["Subject"] = f"Re: Order {answered}"
        body = f"Any news? {TEXTS[n % len(TEXTS)].format(n=answered)}\n\nOn Mon, Acme wrote:\n> We are on it."
    else:
        message["Subject"] = f"Order {n}"
        body = TEXTS[n % len(TEXTS)].format(n=n)
    message.set_content(body)
    return message


def main() -> None:
    args = arguments()
    if not args.database_url:
        run(args)
        return
    from threadline.testing.server import throwaway_database

    with throwaway_database(args.database_url, prefix="tlbench_email") as url:
        args.database_url = url
        run(args)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--messages", type=int, default=1000)
    parser.add_argument("-c", "--clients", type=int, default=8)
    parser.add_argument("-m", "--senders", type=int, default=300)
    parser.add_argument("--replies", type=float, default=0.3, help="share of messages that answer an earlier one")
    parser.add_argument("--database-url", default="",
                        help="postgres://... server to run on, in a throwaway database (default: SQLite in a temp dir)")
    return parser.parse_args()


def run(args: argparse.Namespace) -> None:

    data_dir = tempfile.mkdtemp(prefix="tl-bench-email-")
    os.environ["THREADLINE_DATA_DIR"] = data_dir
    os.environ["THREADLINE_SECRET_KEY"] = "bench-secret-key-" + "x" * 40
    if args.database_url:
        os.environ["THREADLINE_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections, transaction

    call_command("migrate", interactive=False, verbosity=0)
    from threadline.channels.email import smtp_server
    from threadline.channels.email.testkit import free_port, make_email_channel
    from threadline.channels.models import InboundEvent
    from threadline.conversations.models import Message
    from threadline.jobs.pool import WorkerPool
    from threadline.testing.factories import make_workspace

    with transaction.atomic():
        admin = make_workspace("Bench", region="IL")
    channel = make_email_channel(admin, "support@acme.example.com", sender_rate_limit_per_hour=100_000)
    from threadline.language.detection import detect

    detect("Hello, is anyone there?", ["en", "cs"])  # the model loads once per process: not part of the figures
    connections.close_all()
    port = free_port()
    listener = smtp_server.start(port)
    from django.conf import settings

    workers = WorkerPool(settings.THREADLINE["WORKER_CONCURRENCY"]).start()  # as `serve` runs them

    rng = random.Random(7)
    lock = threading.Lock()
    counter = iter(range(args.messages))
    sent: list[int] = []
    answered_by: dict[int, int] = {}
    smtp_latency: list[float] = []
    started_at: dict[str, float] = {}

    def client() -> None:
        connection = smtplib.SMTP("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                n = next(counter, None)
                if n is None:
                    break
                message, answered = build(n, args.senders, args.replies, sent, rng)
            began = time.time()
            connection.send_message(message)
            done = time.time()
            with lock:
                sent.append(n)
                smtp_latency.append(done - began)
                started_at[message["Message-ID"]] = began
                if answered is not None:
                    answered_by[n] = answered
        connection.quit()

    first = time.time()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted_in = time.time() - first
    while InboundEvent.objects.filter(channel=channel, state="received").exists():
        time.sleep(0.1)
    processed_in = max(at.timestamp() for at in InboundEvent.objects.values_list("processed_at", flat=True)) - first
    workers.stop()
    workers.join(10)
    smtp_server.stop(listener)

    processed = dict(InboundEvent.objects.values_list("idempotency_key", "processed_at"))
    e2e = [processed[key].timestamp() - began for key, began in started_at.items() if processed.get(key)]
    conversation_of = dict(Message.objects.values_list("provider_message_id", "conversation_id"))
    threaded = sum(
        1 for n, earlier in answered_by.items()
        if conversation_of.get(f"<bench-{n}@example.com>") == conversation_of.get(f"<bench-{earlier}@example.com>")
    )
    backend = "PostgreSQL" if args.database_url else "SQLite"
    say(f"email ingest, {backend}, {args.messages} messages, {args.clients} SMTP clients, {args.senders} senders, "
          f"{len(answered_by)} replies")
    say(f"  accepted (250):         {args.messages / accepted_in:8.1f} msg/s   SMTP latency p50 "
          f"{percentile(smtp_latency, 50) * 1000:.1f} ms  p95 {percentile(smtp_latency, 95) * 1000:.1f} ms  "
          f"p99 {percentile(smtp_latency, 99) * 1000:.1f} ms")
    say(f"  stored and threaded:    {len(e2e) / processed_in:8.1f} msg/s   latency p50 "
          f"{percentile(e2e, 50) * 1000:.0f} ms  p95 {percentile(e2e, 95) * 1000:.0f} ms  "
          f"p99 {percentile(e2e, 99) * 1000:.0f} ms  (mean {statistics.fmean(e2e) * 1000:.0f} ms)")
    say(f"  replies threaded into the conversation they answer: {threaded}/{len(answered_by)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
