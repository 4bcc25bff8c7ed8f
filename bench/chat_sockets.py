"""Benchmark: chat widget WebSockets held by one `threadline serve` process, and message latency under load.

Starts `threadline serve` on a temporary data directory (SQLite; or a throwaway database on the PostgreSQL
server of --database-url, with --redis-url for the channel layer), creates a web chat channel and visitor
tokens, signs an agent in (session cookie) and opens the agent workspace socket. Then, for each step of
--steps, it opens widget sockets (`/ws/webchat/<id>/?token=…`, each a distinct visitor, each waiting for its
`welcome`) until that many are open at once, and reports:

- sockets held, and connection failures;
- the server process's resident memory (VmRSS of the `serve` process and any children: web server, worker and
  scheduler threads) with that many sockets open, and what the sockets opened at this step added to it, per
  socket (measured just before and just after opening them, so the messages timed at earlier steps do not
  count);
- visitor → agent latency: a visitor socket sends a message; the clock stops when the agent's socket gets
  the `message.received` event (stored, committed, fanned out);
- round trip: the same, then the agent answers through the workspace (`POST …/reply`), the embedded worker
  delivers it through the web chat adapter, and the clock stops when the visitor's socket gets the reply.

Latencies are measured one message at a time (--samples per step) while all the other sockets stay open
and idle, so they show the cost of the load, not of queueing. At the end: the peak RSS (sampled every 0.2 s,
and the kernel's VmHWM), RSS over the baseline per socket at the largest step, and the RSS once every socket
is closed again. Idle sockets send nothing, as the widget in a browser tab (it has no keep-alive of its own;
uvicorn pings every 20 s and the client answers).

Ten thousand sockets need that many descriptors on both ends: the bench raises its own soft RLIMIT_NOFILE to
the hard limit, and the server, a child of the bench, inherits it (`threadline serve` itself does not change
its limits: in production set `LimitNOFILE=` in the unit, or `ulimit -n` before starting it).
Not a test: nothing is asserted.
Run `python bench/chat_sockets.py --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from memory import RssSampler, mib, rss_kib
from websockets.asyncio.client import ClientConnection, connect

from threadline.testing.server import ServerProcess, throwaway_database

PASSWORD = "bench-password-4f1c9a7e"
ADMIN = "bench@acme.example"
CONNECT_BATCH = 100

SETUP = """
import json
from django.db import transaction
from threadline.channels.actions import do_create_channel
from threadline.channels.webchat import tokens
from threadline.channels.webchat.models import Visitor
from threadline.tenancy.models import Membership
admin = Membership.objects.get(user__email={admin!r})
with transaction.atomic():
    channel = do_create_channel(admin, "webchat", "Bench site", {{}})
    ids = [tokens.new_visitor_id() for _ in range({visitors})]
    Visitor.objects.bulk_create([Visitor(workspace_id=channel.workspace_id, channel=channel, visitor_id=v) for v in ids])
print(json.dumps({{"channel": channel.pk, "tokens": [tokens.issue(channel.pk, v) for v in ids]}}))
"""


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def raise_open_files(needed: int) -> int:
    """Raise this process's soft limit on open files towards `needed` (up to the hard limit); children
    started afterwards (the server) inherit it. Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Agent:
    """A signed-in agent: an HTTP client with the session, and the workspace socket."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
        self.socket: ClientConnection | None = None
        self.waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def sign_in(self) -> None:
        self.http.get("/login")
        answer = self.http.post("/login", data={"email": ADMIN, "password": PASSWORD,
                                                "csrfmiddlewaretoken": self.http.cookies["csrftoken"]},
                                headers={"Referer": f"{self.base}/login"})
        if answer.status_code != 302:
            raise RuntimeError(f"sign-in failed: {answer.status_code}")

    async def open(self) -> None:
        cookies = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        ws_base = self.base.replace("http://", "ws://")
        self.socket = await connect(f"{ws_base}/ws/agent/", additional_headers={"Cookie": cookies,
                                                                             "Origin": self.base})
        asyncio.get_running_loop().create_task(self.listen())

    async def listen(self) -> None:
        assert self.socket is not None
        async for raw in self.socket:
            data = json.loads(raw)
            if data.get("type") == "event" and data.get("event") == "message.received":
                waiter = self.waiters.pop(data["payload"].get("text", ""), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(data["payload"])

    def expect(self, text: str) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiters[text] = future
        return future

    def reply(self, conversation_id: int, text: str) -> None:
        answer = self.http.post(f"/app/x/conversations/{conversation_id}/reply", data={"text": text},
                                headers={"X-CSRFToken": self.http.cookies["csrftoken"], "X-Requested-With": "fetch",
                                         "Referer": f"{self.base}/app/"})
        if answer.status_code != 200:
            raise RuntimeError(f"reply failed: {answer.status_code} {answer.text[:200]}")


class Visitor:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        asyncio.get_running_loop().create_task(self.listen())

    async def listen(self) -> None:
        try:
            async for raw in self.socket:
                await self.inbox.put(json.loads(raw))
        except Exception:  # noqa: BLE001 - a closed socket ends the listener
            return

    async def wait_for(self, kind: str, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            data = await asyncio.wait_for(self.inbox.get(), max(0.01, deadline - time.monotonic()))
            if data.get("type") == kind and data.get("message", {}).get("text") == text:
                return


async def open_visitor(url: str) -> Visitor | None:
    try:
        socket = await connect(url, open_timeout=60, max_queue=64, ping_interval=None)
        welcome = json.loads(await asyncio.wait_for(socket.recv(), 60))
        if welcome.get("type") != "welcome":
            await socket.close()
            return None
        return Visitor(socket)
    except Exception:  # noqa: BLE001 - counted as a failed connection
        return None


async def sample(agent: Agent, visitor: Visitor, timeout: float) -> tuple[float, float]:
    text = f"bench {uuid.uuid4().hex[:12]}"
    arrived = agent.expect(text)
    started = time.perf_counter()
    await visitor.socket.send(json.dumps({"type": "message", "client_id": uuid.uuid4().hex, "text": text}))
    payload = await asyncio.wait_for(arrived, timeout)
    one_way = time.perf_counter() - started
    answer = f"re {text}"
    await asyncio.to_thread(agent.reply, payload["conversation_id"], answer)
    await visitor.wait_for("message", answer, timeout)
    return one_way, time.perf_counter() - started


async def run(args: argparse.Namespace, server: ServerProcess, setup: dict[str, Any]) -> list[dict[str, Any]]:
    agent = Agent(server.url)
    await asyncio.to_thread(agent.sign_in)
    await agent.open()
    ws_base = server.url.replace("http://", "ws://")
    urls = [f"{ws_base}/ws/webchat/{setup['channel']}/?token={token}" for token in setup["tokens"]]
    pid = server.process.pid  # type: ignore[union-attr]
    await asyncio.sleep(1.0)
    baseline = rss_kib(pid)
    memory = RssSampler(pid).start()
    say(f"server pid {pid}, baseline RSS {baseline / 1024:.1f} MiB (agent socket open)")
    idle: list[Visitor] = []
    failures = 0
    next_url = 0
    results = []
    for target in args.steps:
        before = rss_kib(pid)
        opened_before = len(idle)
        opening = time.perf_counter()
        while len(idle) < target and next_url < len(urls):
            batch = urls[next_url:next_url + min(CONNECT_BATCH, target - len(idle))]
            next_url += len(batch)
            opened = await asyncio.gather(*(open_visitor(u) for u in batch))
            idle += [v for v in opened if v is not None]
            failures += sum(1 for v in opened if v is None)
        open_seconds = time.perf_counter() - opening
        await asyncio.sleep(1.0)
        rss = rss_kib(pid)
        per_socket = (rss - before) / max(1, len(idle) - opened_before)
        one_way, round_trip, errors = [], [], 0
        for visitor in idle[: args.samples]:
            try:
                a, b = await sample(agent, visitor, args.timeout)
                one_way.append(a)
                round_trip.append(b)
            except (TimeoutError, RuntimeError):
                errors += 1
        idle = idle[args.samples:] + idle[: args.samples]  # sampled visitors now have contacts: rotate them
        row = {"sockets": len(idle), "failed": failures, "open_s": round(open_seconds, 1),
               "rss_mib": round(rss / 1024, 1), "kib_per_socket": round(per_socket, 1), "samples": len(one_way),
               "errors": errors, "rss_after_samples_mib": round(rss_kib(pid) / 1024, 1)}
        if one_way:
            row.update({"to_agent_p50_ms": round(statistics.median(one_way) * 1000, 1),
                        "to_agent_p99_ms": round(percentile(one_way, 0.99) * 1000, 1),
                        "round_trip_p50_ms": round(statistics.median(round_trip) * 1000, 1),
                        "round_trip_p99_ms": round(percentile(round_trip, 0.99) * 1000, 1)})
        row["load_average"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        results.append(row)
        say(json.dumps(row))
        if failures > 0.01 * max(1, next_url) or errors > 0.05 * args.samples:
            say("stopping: connections fail or messages time out")
            break
    held, held_rss = len(idle), rss_kib(pid)
    for visitor in idle:
        await visitor.socket.close()
    if agent.socket is not None:
        await agent.socket.close()
    await asyncio.sleep(5.0)
    memory.stop()
    say(f"summary: {held} sockets held, {failures} failed; RSS baseline {mib(baseline)} MiB, with the sockets "
        f"{mib(held_rss)} MiB ({(held_rss - baseline) / max(1, held):.1f} KiB/socket over the baseline), "
        f"peak {mib(memory.peak_kib)} MiB, after closing them {mib(memory.last_kib)} MiB; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="1000,2000,5000,10000",
                        help="numbers of widget sockets to hold at once, one step after another")
    parser.add_argument("--samples", type=int, default=100, help="messages timed at each step")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds before a message counts as lost")
    parser.add_argument("--database-url", default="", help="PostgreSQL server to create a throwaway database on")
    parser.add_argument("--redis-url", default="", help="Redis for the channel layer (scaled-mode settings)")
    args = parser.parse_args()
    args.steps = [int(s) for s in args.steps.split(",")]
    limit = raise_open_files(max(args.steps) + args.samples * len(args.steps) + 1024)
    say(f"open files limit (soft, bench and server): {limit}")
    extra = {"THREADLINE_ADMIN_EMAIL": ADMIN, "THREADLINE_ADMIN_PASSWORD": PASSWORD, "THREADLINE_LOG_LEVEL": "WARNING"}
    if args.redis_url:
        extra["THREADLINE_REDIS_URL"] = args.redis_url
    with tempfile.TemporaryDirectory(prefix="tl-bench-chat-") as tmp, \
            throwaway_database(args.database_url or None) as database_url:
        with ServerProcess(Path(tmp) / "data", database_url=database_url, **extra) as server:
            server.start()
            visitors = max(args.steps) + args.samples * len(args.steps)
            setup = server.python(SETUP.format(admin=ADMIN, visitors=visitors))
            say(f"threadline serve at {server.url}, {'PostgreSQL' if database_url else 'SQLite'}, "
                f"{'Redis' if args.redis_url else 'in-memory'} channel layer; {visitors} visitor tokens")
            results = asyncio.run(run(args, server, setup))
            report(results)
            try:
                server.stop(timeout=120)
            except subprocess.TimeoutExpired:
                say("(the server did not stop within 120 s and was killed)")


def report(results: list[dict[str, Any]]) -> None:
    say("")
    say("| sockets | failed | RSS MiB | KiB/socket | to agent p50 / p99 ms | round trip p50 / p99 ms |")
    say("|---|---|---|---|---|---|")
    for row in results:
        say(f"| {row['sockets']} | {row['failed']} | {row['rss_mib']} | {row['kib_per_socket']} | "
            f"{row.get('to_agent_p50_ms', '-')} / {row.get('to_agent_p99_ms', '-')} | "
            f"{row.get('round_trip_p50_ms', '-')} / {row.get('round_trip_p99_ms', '-')} |")


if __name__ == "__main__":
    main()
