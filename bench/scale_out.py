"""Benchmark: scaling out on PostgreSQL + Redis, web nodes and workers added independently.

Each measurement gets a throwaway database on the PostgreSQL server of --database-url and its own key prefix
on the Redis of --redis-url, then:

- **accepted**: N web nodes (`threadline serve` with THREADLINE_EMBEDDED_WORKER=0, no worker anywhere) take
  --messages signed inbound messages from --concurrency clients, round robin over the nodes; accepted
  messages/s is messages acknowledged (202) divided by the time from the first POST to the last answer;
- **processed**: the backlog those messages left is then processed by M `threadline worker --concurrency C`
  processes started together; processed messages/s is the messages after the first divided by the time
  from the first `InboundEvent.processed_at` to the last (so the workers' start-up, Django and the language
  model loading, is left out).

It runs 1 and 2 web nodes, and 1 and 2 workers, and prints both ratios (the issue's goal: ≥ 1.8× each).
Beside each phase it prints the cores busy, by role (the web nodes or workers, PostgreSQL, Redis, this load
generator; CPU seconds from /proc over the phase's wall time), and beside each ratio the most the machine's
cores allow at the single run's CPU per message (cores ÷ cores busy with one): a ratio at that ceiling is
the machine's limit, not the code's.

Fitting it on a machine: the load generator (this process), PostgreSQL and Redis need CPU too. With
--pin, each web node and each worker process is pinned, all its threads (`taskset -a -p`), to a core of
--cpus of its own, round robin, and the load generator to the first core of --loadgen-cpus; PostgreSQL and
Redis run where the operating system puts them (pin them with `taskset` on their own cores before the run,
e.g. `taskset -a -pc 6,7 $(pgrep -d, postgres)`). Two nodes can only scale 1.8× when each gets a core of
its own that nothing else uses: on 2 cores the figures show contention, not scaling. A machine with 8
cores fits `--pin --loadgen-cpus 0,1 --cpus 2,3,4,5` and PostgreSQL + Redis on 6,7.

Not a test: nothing is asserted. Run `python bench/scale_out.py --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from ingest import TEXTS, cpu_seconds, own_cpu, run_clients, say, sender

from threadline.testing.server import ServerProcess, sign, throwaway_database

PASSWORD = "bench-password-5d2b7c19"
READY_TIMEOUT = 900.0  # the first node migrates a new database: minutes on a busy machine
PROCESSED = """SELECT COUNT(*), EXTRACT(EPOCH FROM MAX(processed_at) - MIN(processed_at))
FROM tl_channels_inboundevent WHERE state = 'processed'"""


def named(*commands: str) -> list[int]:
    """Every process of this machine whose command name is one of `commands` (PostgreSQL's backends, Redis)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in commands:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class CpuMeter:
    """CPU seconds (user + system, from /proc) of the roles of a run, read at two moments: the workers (or web
    nodes), PostgreSQL, Redis, and this load generator. PostgreSQL's and Redis's count every process of those
    names on the machine, so run the bench with nothing else using them."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.start = self.read()

    def read(self) -> dict[str, float]:
        # PostgreSQL's and Redis's processes one by one: `cpu_seconds` adds descendants, and every backend is
        # the postmaster's
        return {"threadline": sum(cpu_seconds(pid) for pid in self.pids),
                "postgresql": sum(own_cpu(pid) for pid in named("postgres")),
                "redis": sum(own_cpu(pid) for pid in named("redis-server")),
                "load generator": time.process_time(), "wall": time.monotonic()}

    def since(self) -> dict[str, float]:
        now = self.read()
        return {role: now[role] - self.start[role] for role in now}


def busy(used: dict[str, float]) -> float:
    """Cores kept busy over the wall time of `used`, every role summed."""
    return sum(value for role, value in used.items() if role != "wall") / (used["wall"] or float("nan"))


def cores_busy(used: dict[str, float]) -> str:
    """'1.31 cores busy (threadline 0.92, postgresql 0.30, ...)' over the wall time of `used`."""
    wall = used["wall"] or float("nan")
    return f"{busy(used):.2f} cores busy (" + ", ".join(
        f"{role} {value / wall:.2f}" for role, value in used.items() if role != "wall") + ")"


def pin(pid: int, cpu: str | None) -> None:
    """Pin every thread of process `pid` to `cpu` (taskset -a); nothing when pinning is off."""
    if cpu is not None:
        subprocess.run(["taskset", "-a", "-pc", cpu, str(pid)], check=True, capture_output=True)


class Cluster:
    """Web nodes and workers on one throwaway PostgreSQL database, sharing a secret key and a Redis prefix."""

    def __init__(self, stack: ExitStack, database_url: str, redis_url: str, cpus: list[str] | None) -> None:
        self.stack, self.database_url, self.cpus = stack, database_url, cpus
        self.next_cpu = 0
        self.root = Path(tempfile.mkdtemp(prefix="threadline-scale-"))
        stack.callback(shutil.rmtree, self.root, True)
        self.env = {
            "THREADLINE_SECRET_KEY": secrets.token_urlsafe(48), "THREADLINE_LOG_LEVEL": "WARNING",
            "THREADLINE_REDIS_URL": redis_url, "THREADLINE_REDIS_PREFIX": f"tlscale-{secrets.token_hex(5)}",
            "THREADLINE_API_RATE_LIMIT": "100000000", "THREADLINE_EMBEDDED_WORKER": "0",
            "THREADLINE_ADMIN_EMAIL": "bench@example.com", "THREADLINE_ADMIN_PASSWORD": PASSWORD,
            **{name: value for name, value in os.environ.items() if name == "THREADLINE_DB_PREPARE"},
        }
        self.nodes: list[ServerProcess] = []
        self.workers: list[subprocess.Popen[bytes]] = []

    def cpu(self) -> str | None:
        if not self.cpus:
            return None
        chosen = self.cpus[self.next_cpu % len(self.cpus)]
        self.next_cpu += 1
        return chosen

    def add_node(self) -> ServerProcess:
        node = ServerProcess(self.root / f"node{len(self.nodes)}", database_url=self.database_url, **self.env)
        self.stack.callback(node.close)
        node.start(wait=False)  # one after the other: the first migrates, the others find it done
        node.wait_ready(READY_TIMEOUT)
        assert node.process is not None
        pin(node.process.pid, self.cpu())
        self.nodes.append(node)
        return node

    def start_workers(self, count: int, concurrency: int) -> None:
        for number in range(count):
            worker = self.nodes[0].spawn("worker", "--concurrency", str(concurrency), name=f"worker{number}")
            self.stack.callback(stop, worker)
            pin(worker.pid, self.cpu())
            self.workers.append(worker)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(nodes: int, workers: int, *, messages: int, concurrency: int, senders: int, worker_threads: int,
            database_url: str, redis_url: str, cpus: list[str] | None, timeout: float) -> dict[str, float]:
    """Accept `messages` on `nodes` web nodes, then process them with `workers` workers; the two rates."""
    with ExitStack() as stack:
        url = stack.enter_context(throwaway_database(database_url, prefix="tlscale"))
        assert url, "scale_out.py needs PostgreSQL (--database-url)"
        cluster = Cluster(stack, url, redis_url, cpus)
        for _ in range(nodes):
            cluster.add_node()
        channel = cluster.nodes[0].python_json_command("channel", "create-api", "--name", "Scale")
        hooks = [f"{node.url}/hooks/api/{channel['id']}/" for node in cluster.nodes]

        def post(client: httpx.Client, number: int) -> tuple:
            body = json.dumps({"message_id": f"scale-{number}", "sender": sender(number, senders),
                               "text": TEXTS[number % len(TEXTS)].format(n=number)}, ensure_ascii=False).encode()
            answer = client.post(hooks[number % len(hooks)], content=body, headers={
                "X-Threadline-Signature": sign(channel["secret"], body), "Content-Type": "application/json"})
            return (answer.status_code,)

        accepting = CpuMeter([node.process.pid for node in cluster.nodes if node.process is not None])
        seconds, answers = run_clients(concurrency, list(range(messages)), post)
        accepting_cpu = accepting.since()
        accepted = sum(1 for (status,) in answers if status == 202)
        cluster.start_workers(workers, worker_threads)
        done, span, deadline = 0, 0.0, time.monotonic() + timeout
        processing: CpuMeter | None = None  # from the first message processed: the workers' start-up left out
        while time.monotonic() < deadline:
            done, span = cluster.nodes[0].query(PROCESSED)[0]
            if done and processing is None:
                processing = CpuMeter([worker.pid for worker in cluster.workers])
            if done >= accepted:
                break
            time.sleep(0.2)
        processing_cpu = processing.since() if processing is not None else {"wall": 0.0}
    return {"accepted": accepted, "accepted_per_s": accepted / seconds, "processed": done,
            "processed_per_s": (done - 1) / float(span) if done > 1 and span else float("nan"),
            "accepting_cpu": accepting_cpu, "processing_cpu": processing_cpu}


def ceiling(one: dict[str, float], cores: int) -> float:
    """How many times one run's rate the machine's `cores` allow at that run's CPU per message (every role's,
    the load generator's included): the most a second node or worker could add here, whatever the code."""
    used = busy(one)
    return cores / used if used else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8, help="load generator's clients (default 8)")
    parser.add_argument("--senders", type=int, default=200)
    parser.add_argument("--worker-threads", type=int, default=2, help="--concurrency of each worker (default 2)")
    parser.add_argument("--database-url", default=os.environ.get("THREADLINE_DATABASE_URL")
                        or "postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default=os.environ.get("THREADLINE_REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--pin", action="store_true", help="pin nodes, workers and the load generator to cores")
    parser.add_argument("--cpus", default="", help="cores for nodes and workers, e.g. 2,3,4,5 (with --pin)")
    parser.add_argument("--loadgen-cpus", default="0", help="cores of this load generator (with --pin)")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    cpus = None
    if args.pin:
        cpus = [c for c in args.cpus.split(",") if c] or [str(c) for c in sorted(os.sched_getaffinity(0))]
        os.sched_setaffinity(0, {int(c) for c in args.loadgen_cpus.split(",")})
    options = dict(messages=args.messages, concurrency=args.concurrency, senders=args.senders,
                   worker_threads=args.worker_threads, database_url=args.database_url, redis_url=args.redis_url,
                   cpus=cpus, timeout=args.timeout)
    say(f"threadline bench/scale_out.py: {args.messages} messages, {args.concurrency} clients, PostgreSQL + Redis, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
        + (f", pinned: nodes and workers on {','.join(cpus)}, load generator on {args.loadgen_cpus}" if cpus else ""))
    runs = {}
    for nodes, workers in ((1, 1), (2, 2)):
        runs[(nodes, workers)] = result = measure(nodes, workers, **options)
        say(f"  {nodes} web node(s), {workers} worker(s) x {args.worker_threads} threads: "
            f"accepted {result['accepted']}/{args.messages} at {result['accepted_per_s']:,.1f} msg/s, "
            f"processed {result['processed']} at {result['processed_per_s']:,.1f} msg/s "
            f"(load average {os.getloadavg()[0]:.1f})")
        say(f"    accepting:  {cores_busy(result['accepting_cpu'])}")
        say(f"    processing: {cores_busy(result['processing_cpu'])}")
    one, two = runs[(1, 1)], runs[(2, 2)]
    cores = len(cpus) + len(args.loadgen_cpus.split(",")) if cpus else (os.cpu_count() or 1)
    for label, key, phase in (("web nodes 2 vs 1: accepted", "accepted_per_s", "accepting_cpu"),
                              ("workers 2 vs 1:   processed", "processed_per_s", "processing_cpu")):
        allowed = ceiling(one[phase], cores)
        say(f"  {label} {two[key] / one[key]:.2f}x (goal >= 1.8x; at one's CPU per message these {cores} "
            f"cores allow at most {allowed:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
