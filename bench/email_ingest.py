"""Benchmark: inbound email from SMTP clients to stored-and-threaded messages, with a share of replies.

Starts a real `threadline serve --smtp-port P` process (a fresh SQLite data directory, or a throwaway database
on the PostgreSQL server of --database-url; `--worker-process` runs its worker in a process of its own),
creates an email channel, sends one warm-up email, then C concurrent smtplib clients in this process send N
messages from M senders in several languages over one SMTP connection each; a share of them (--replies) are
replies whose In-Reply-To names an earlier message. The messages are built and serialised before the clock
starts (as the peer's importer finds its files already written), so the clients cost the server little CPU.
It reports:

- accepted messages/s: N divided by the time from the first connection to the last 250;
- SMTP latency (DATA sent to 250 received: the message is committed by then);
- stored-and-threaded messages/s and latency: to the `processed_at` of each InboundEvent, which the worker
  sets in the transaction that stores the Message and threads it;
- how many replies landed in the conversation of the message they answer (must be all);
- the server's CPU per email (its process and children, /proc) and resident memory.

Until 2026-12-06 this bench ran the SMTP listener and the worker threads inside its own process, beside its
eight client threads and their message building: one interpreter lock for clients and server, which
understated the server's rate (see docs/performance.md, "Email over SMTP against a real server").

Not a test: nothing is asserted. Run `python bench/email_ingest.py --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from ingest import cpu_seconds
from memory import RssSampler, mib
from threads import per_item_ms, print_profile, profile_path, server_env, thread_cpu

from threadline.testing.server import ServerProcess, free_port, throwaway_database

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


REPLY_LAG = 32  # a reply answers an email at least this many sends earlier (4 rounds of 8 clients)
COLLECT = """
import json, time
from threadline.channels.models import InboundEvent
from threadline.conversations.models import Message
deadline = time.monotonic() + {timeout}
events = InboundEvent.objects.filter(channel_id={channel})
while (events.filter(state="received").exists() or events.count() < {expected}) and time.monotonic() < deadline:
    time.sleep(0.1)
processed = {{key: at.timestamp() for key, at in events.values_list("idempotency_key", "processed_at") if at}}
conversation_of = dict(Message.objects.filter(channel_id={channel}).values_list("provider_message_id", "conversation_id"))
print(json.dumps({{"processed": processed, "conversation_of": conversation_of}}))
"""


def main() -> None:
    args = arguments()
    result = measure(args)
    e2e, smtp_latency = result["e2e"], result["smtp_latency"]
    mode = "with its worker process" if args.worker_process else "one process"
    say(f"email ingest, {result['backend']}, {args.messages} messages, {args.clients} SMTP clients, "
        f"{args.senders} senders, {result['replies']} replies; `threadline serve --smtp-port` ({mode})")
    say(f"  accepted (250):         {args.messages / result['accepted_in']:8.1f} msg/s   SMTP latency p50 "
        f"{percentile(smtp_latency, 50) * 1000:.1f} ms  p95 {percentile(smtp_latency, 95) * 1000:.1f} ms  "
        f"p99 {percentile(smtp_latency, 99) * 1000:.1f} ms")
    say(f"  stored and threaded:    {len(e2e) / result['processed_in']:8.1f} msg/s   latency p50 "
        f"{percentile(e2e, 50) * 1000:.0f} ms  p95 {percentile(e2e, 95) * 1000:.0f} ms  "
        f"p99 {percentile(e2e, 99) * 1000:.0f} ms  (mean {statistics.fmean(e2e) * 1000:.0f} ms)")
    say(f"  not stored in time:     {args.messages - len(e2e)}")
    say(f"  replies threaded into the conversation they answer: {result['threaded']}/{result['replies']}")
    say(f"  server CPU per email:   {result['cpu_ms']:.1f} ms  (by thread: " + ", ".join(
        f"{name} {ms:.1f}" for name, ms in sorted(result["threads_ms"].items(), key=lambda item: -item[1])
        if ms >= 0.05) + ")")
    say("  server RSS MiB warm/peak/final: "
        + "/".join(mib(result[f"rss_{k}_kib"]) for k in ("warm", "peak", "final")))
    if result["stop_code"] != 0:
        say(f"server exited with {result['stop_code']}:\n{result['errors'][-2000:]}")
    sys.stdout.flush()


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--messages", type=int, default=1000)
    parser.add_argument("-c", "--clients", type=int, default=8)
    parser.add_argument("-m", "--senders", type=int, default=300)
    parser.add_argument("--replies", type=float, default=0.3, help="share of messages that answer an earlier one")
    parser.add_argument("--database-url", default="",
                        help="postgres://... server to run on, in a throwaway database (default: SQLite in a temp dir)")
    parser.add_argument("--worker-process", action="store_true",
                        help="THREADLINE_WORKER_PROCESS=1: the worker in a process of its own (CPU and RSS summed)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for processing (default 900)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="profile every thread of the server (cProfile, bench/thread_profile) over the sending "
                             "and processing, and print each thread's N costliest functions (the CPU figures "
                             "are then the profiled server's)")
    return parser.parse_args()


def prepared(args: argparse.Namespace) -> list[tuple[str, str, bytes, int | None]]:
    """Every email as (envelope sender, Message-ID, bytes on the wire, the n it answers), built before the clock
    starts."""
    rng = random.Random(7)
    sent: list[int] = []
    out = []
    for n in range(args.messages):
        # a reply answers an email sent well before it (as in real mail, the original was accepted first)
        message, answered = build(n, args.senders, args.replies, sent[:-REPLY_LAG], rng)
        out.append((parseaddr(message["From"])[1], message["Message-ID"], message.as_bytes(), answered))
        sent.append(n)
    return out


def send_all(port: int, clients: int, emails: list[tuple[str, str, bytes, int | None]]) -> tuple[float, dict, list]:
    """Send the emails from `clients` threads, one SMTP connection each; (seconds, began per id, latencies)."""
    lock = threading.Lock()
    queue = iter(emails)
    began_at: dict[str, float] = {}
    latency: list[float] = []
    gate = threading.Barrier(clients + 1)

    def client() -> None:
        connection = smtplib.SMTP("127.0.0.1", port, timeout=120)
        gate.wait()
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                break
            sender, message_id, raw, _answered = item
            began = time.time()
            connection.sendmail(sender, ["support@acme.example.com"], raw)
            done = time.time()
            with lock:
                began_at[message_id] = began
                latency.append(done - began)
        connection.quit()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    gate.wait()
    first = time.time()
    for thread in threads:
        thread.join()
    return first, began_at, latency


def measure(args: argparse.Namespace) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="tl-bench-email-"))
    smtp_port = free_port()
    env = {"THREADLINE_WORKER_PROCESS": "1"} if args.worker_process else {}
    env.update(server_env(data_dir, bool(args.profile)))
    emails = prepared(args)
    try:
        with throwaway_database(args.database_url or None, prefix="tlbench_email") as url, ServerProcess(
            data_dir, database_url=url, args=("--smtp-port", str(smtp_port)), THREADLINE_LOG_LEVEL="WARNING", **env,
        ) as server:
            server.start()
            channel = server.python_json_command(
                "channel", "create", "email", "--address", "support@acme.example.com",
                "--sender-rate-limit-per-hour", "100000")
            warm = compose(0, 0, None, prefix="warm-up")
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=120) as connection:
                connection.send_message(warm)  # the language model loads once per process: not in the figures
            server.shell(COLLECT.format(timeout=args.timeout, channel=channel["id"], expected=1),
                         timeout=args.timeout + 60)
            memory = RssSampler(server.process.pid).start()
            if args.profile:
                os.kill(server.process.pid, signal.SIGUSR1)  # the profiles start now
            cpu_before = cpu_seconds(server.process.pid)
            threads_before = thread_cpu(server.process.pid, data_dir)
            first, began_at, smtp_latency = send_all(smtp_port, args.clients, emails)
            accepted_in = time.time() - first
            collected = json.loads(server.shell(
                COLLECT.format(timeout=args.timeout, channel=channel["id"], expected=args.messages + 1),
                timeout=args.timeout + 60).splitlines()[-1])
            cpu = cpu_seconds(server.process.pid) - cpu_before
            threads_after = thread_cpu(server.process.pid, data_dir)
            memory.stop()
            stop_code = server.stop()
            errors = server.errors()
            profile = profile_path(data_dir, server.process.pid)
            if args.profile and profile.exists():
                print_profile(profile.read_bytes(), args.profile, say)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    processed = collected["processed"]
    e2e = [processed[key] - began for key, began in began_at.items() if key in processed]
    conversation_of = collected["conversation_of"]
    answered_by = {message_id: f"<bench-{answered}@example.com>" for _sender, message_id, _raw, answered in emails
                   if answered is not None}
    threaded = sum(1 for mine, theirs in answered_by.items()
                   if conversation_of.get(mine) is not None and conversation_of.get(mine) == conversation_of.get(theirs))
    return {
        "backend": "PostgreSQL (throwaway database)" if url else "SQLite (WAL) in a temporary data dir",
        "accepted_in": accepted_in, "smtp_latency": smtp_latency, "e2e": e2e,
        "processed_in": max((processed[key] for key in began_at if key in processed), default=first + 1) - first,
        "replies": len(answered_by), "threaded": threaded, "cpu_ms": cpu * 1000 / max(1, len(emails)),
        "rss_warm_kib": memory.first_kib, "rss_peak_kib": memory.peak_kib, "rss_final_kib": memory.last_kib,
        "stop_code": stop_code, "errors": errors,
        "threads_ms": per_item_ms(threads_before, threads_after, len(emails)),
    }


if __name__ == "__main__":
    main()
