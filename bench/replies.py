"""Benchmark: agents' replies through the REST API, accepted and delivered to the provider.

Starts `threadline serve` (SQLite in a temporary data dir, or a throwaway database on --database-url), an API
channel whose replies are POSTed to a loopback receiver (the "provider"), and --conversations conversations
(inbound messages through the channel's webhook). C concurrent clients then POST N replies to
`/api/v1/conversations/<id>/messages`, round robin over the conversations. It reports:

- accepted replies/s and latency: POST start to 201 (the reply is stored and its delivery job committed);
- delivered replies/s and latency: POST start to the provider receiving the reply (receiver's wall clock,
  same machine);
- the server's CPU per reply (user + system of `serve` and any worker process, from /proc), from the first POST
  to the last delivery: accepting and delivering together.

Unpaced, the clients post faster than the worker delivers, so the delivered latency mostly measures the
backlog the burst builds; with `--rate` below the delivery rate it measures the path itself.

Not a test: nothing is asserted. Run `python bench/replies.py --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx
from ingest import cpu_seconds, percentile, run_clients, say, sender, serve_shape, worker_process_env
from threads import per_item_ms, print_profile, profile_path, server_env, thread_cpu

from threadline.testing.receiver import Receiver
from threadline.testing.server import ServerProcess, sign, throwaway_database

PASSWORD = "bench-password-0c5e2d81"
SEED_WAIT = """
import json, time
from threadline.channels.models import InboundEvent
from threadline.conversations.models import Conversation
deadline = time.monotonic() + {timeout}
while InboundEvent.objects.filter(state="received").exists() and time.monotonic() < deadline:
    time.sleep(0.2)
print(json.dumps(list(Conversation.objects.order_by("id").values_list("id", flat=True))))
"""


def measure(replies: int = 500, concurrency: int = 4, conversations: int = 50, database_url: str | None = None,
            timeout: float = 300, rate: float = 0, profile: int = 0, **env: str) -> dict[str, object]:
    """Start a server and a provider, post the replies, wait for their delivery; the figures as a dict. With
    `profile`, every thread of the server runs under cProfile over the replies (`bench/threads.py`)."""
    receiver = Receiver().start()
    data_dir = Path(tempfile.mkdtemp(prefix="threadline-replies-bench-"))
    try:
        with throwaway_database(database_url, prefix="tlreplies") as url, ServerProcess(
            data_dir, database_url=url, THREADLINE_ADMIN_EMAIL="bench@example.com",
            THREADLINE_ADMIN_PASSWORD=PASSWORD, THREADLINE_LOG_LEVEL="WARNING",
            THREADLINE_OUTBOUND_ALLOW_PRIVATE="1", THREADLINE_API_RATE_LIMIT="1000000",
            **{**server_env(data_dir, bool(profile)), **env},
        ) as server:
            server.start()
            token = server.run("token", "create", "--email", "bench@example.com").stdout.strip()
            channel = server.python_json_command("channel", "create-api", "--name", "Bench",
                                                 "--webhook-url", receiver.url)
            hook = f"{server.url}/hooks/api/{channel['id']}/"
            with httpx.Client(timeout=60) as client:
                for number in range(conversations):
                    body = json.dumps({"message_id": f"seed-{number}", "sender": sender(number, conversations),
                                       "text": f"Order {number} is late"}).encode()
                    client.post(hook, content=body, headers={"X-Threadline-Signature": sign(channel["secret"], body),
                                                             "Content-Type": "application/json"})
            ids = json.loads(server.shell(SEED_WAIT.format(timeout=timeout), timeout=timeout + 60).splitlines()[-1])
            auth = {"Authorization": f"Bearer {token}"}

            def reply(client: httpx.Client, number: int) -> tuple:
                target = ids[number % len(ids)]
                wall, t0 = time.time(), time.perf_counter()
                answer = client.post(f"{server.url}/api/v1/conversations/{target}/messages", headers=auth,
                                     json={"text": f"Reply {number}: we are on it, sorry for the wait."})
                message_id = answer.json().get("id") if answer.status_code == 201 else None
                return message_id, wall, time.perf_counter() - t0, answer.status_code

            if profile:
                os.kill(server.process.pid, signal.SIGUSR1)  # the profiles start now
            cpu_before = cpu_seconds(server.process.pid)
            threads_before = thread_cpu(server.process.pid, data_dir)
            seconds, posted = run_clients(concurrency, list(range(replies)), reply, rate)
            accepted = [p for p in posted if p[3] == 201]
            received = receiver.wait_for(len(accepted), timeout=timeout)
            server_cpu = cpu_seconds(server.process.pid) - cpu_before
            threads_ms = per_item_ms(threads_before, thread_cpu(server.process.pid, data_dir), len(accepted))
            if profile:
                os.kill(server.process.pid, signal.SIGUSR2)
            stop_code = server.stop()
            if profile and profile_path(data_dir, server.process.pid).exists():
                print_profile(profile_path(data_dir, server.process.pid).read_bytes(), profile, say)
    finally:
        receiver.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    arrived = {}
    for item in received:
        message_id = json.loads(item.body).get("message_id")
        arrived.setdefault(message_id, item.at)
    delivered = [(arrived[p[0]] - p[1]) * 1000 for p in accepted if p[0] in arrived]
    last = max(arrived.values(), default=float("nan"))
    first = min((p[1] for p in accepted), default=float("nan"))
    return {
        "backend": "PostgreSQL" if url else "SQLite", "posted": len(posted), "accepted": len(accepted),
        "accepted_per_s": len(accepted) / seconds, "ack_ms": [p[2] * 1000 for p in accepted],
        "delivered": len(delivered), "delivered_ms": delivered,
        "delivered_per_s": len(delivered) / (last - first) if delivered else float("nan"),
        "duplicates": len(received) - len(arrived), "stop_code": stop_code,
        "server_cpu_ms": server_cpu * 1000 / max(1, len(accepted)), "threads_ms": threads_ms,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--database-url", help="PostgreSQL server to use (a throwaway database is created on it)")
    parser.add_argument("--rate", type=float, default=0,
                        help="pace the replies at this many per second in total (default 0: as fast as possible)")
    parser.add_argument("--worker-process", action=argparse.BooleanOptionalAction, default=None,
                        help="THREADLINE_WORKER_PROCESS=1 (the worker in a process of its own) or =0 (one process); "
                             "default: serve's default")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="profile every thread of the server (cProfile, bench/threads.py) over the replies and "
                             "print each thread's N costliest functions")
    args = parser.parse_args()
    result = measure(args.replies, args.concurrency, args.conversations, args.database_url, rate=args.rate,
                     profile=args.profile, **worker_process_env(args.worker_process))
    ack, delivered = result["ack_ms"], result["delivered_ms"]
    pace = f"paced at {args.rate:g}/s" if args.rate else "unpaced"
    say(f"threadline bench/replies.py: {args.replies} replies ({pace}), {args.concurrency} clients, {args.conversations} "
        f"conversations, {result['backend']}; {serve_shape(args.worker_process)}")
    say(f"  accepted (201)      {result['accepted']}/{result['posted']}: {result['accepted_per_s']:,.1f}/s, "
        f"latency p50/p95/p99 {'/'.join(f'{percentile(ack, q):.0f}' for q in (50, 95, 99))} ms")
    say(f"  delivered           {result['delivered']}: {result['delivered_per_s']:,.1f}/s, latency p50/p95/p99 "
        f"{'/'.join(f'{percentile(delivered, q):.0f}' for q in (50, 95, 99))} ms; "
        f"duplicates at the provider: {result['duplicates']}")
    say(f"  server CPU          {result['server_cpu_ms']:.1f} ms per reply (accepted and delivered): "
        + ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(result["threads_ms"].items(), key=lambda kv: -kv[1])
                    if ms >= 0.05))
    return 0


if __name__ == "__main__":
    sys.exit(main())
