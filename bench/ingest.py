"""Benchmark: inbound messages through the API channel, against a real `threadline serve` process.

Starts `threadline serve` on a temporary data directory (SQLite; or a throwaway database on the PostgreSQL
server of --database-url), creates an admin token and an API channel, then C concurrent clients POST N
signed inbound messages from M distinct senders to /hooks/api/<id>/. It reports:

- accepted messages/s: N divided by the time from the first POST to the last acknowledgement (202);
- acknowledgement latency (POST start to 202 received), client clock;
- stored-and-threaded latency: from each POST's start (client wall clock) to the `processed_at` of its
  InboundEvent, which the worker sets inside the very transaction that stores the Message and threads it
  into a conversation (server wall clock, same machine); read from the database after the run;
- /healthz requests/s with the same clients, as the floor, and the ratio ingest / healthz;
- the server's resident memory (VmRSS of `serve` and any children, sampled every 0.2 s from /proc, with the
  kernel's high-water mark VmHWM): after the warm-up message, the peak, and at the end of the run; beside it
  PSS and USS summed over the processes (bench/memory.py: a page `serve` and its worker child share counts
  once), and with the worker process each process's RSS/PSS/USS at the end.

Not a test: nothing is asserted. Run `python bench/ingest.py --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from memory import RssSampler, descendants, footprints, mib
from threads import per_item_ms, print_profile, profile_path, server_env, thread_cpu

from threadline.testing.server import ServerProcess, sign, throwaway_database

PASSWORD = "bench-password-4f1c9a7e"
SENDER_KINDS = ("email", "phone", "whatsapp", "telegram")
TEXTS = (
    "Hi, my order #{n} arrived damaged, can you help?",
    "שלום, ההזמנה {n} שלי עוד לא הגיעה",
    "سلام، سفارش {n} من هنوز نرسیده است",
    "สวัสดีค่ะ คำสั่งซื้อ {n} ยังไม่ได้รับเลยค่ะ",
    "Dobrý den, objednávka {n} stále nedorazila.",
)

WAIT_PROCESSED = """
import time
from threadline.channels.models import InboundEvent
deadline = time.monotonic() + {timeout}
while InboundEvent.objects.filter(state="received").exists() and time.monotonic() < deadline:
    time.sleep(0.1)
"""
COLLECT = """
import json, time
from django.utils import timezone
from threadline.channels.models import InboundEvent
from threadline.jobs.models import Job
deadline = time.monotonic() + {timeout}
while InboundEvent.objects.filter(state="received").exists() and time.monotonic() < deadline:
    time.sleep(0.2)
rows = InboundEvent.objects.filter(channel_id={channel}).values_list("idempotency_key", "state", "processed_at")
stored = {{key: [state, at.timestamp() if at else None] for key, state, at in rows}}
while Job.objects.filter(state__in=["queued", "running"], run_after__lte=timezone.now()).exists() \\
        and time.monotonic() < deadline:
    time.sleep(0.2)
print(json.dumps({{"stored": stored, "drained": time.time()}}))
"""


def say(line: str = "", *, err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(line + "\n")


def sender(number: int, senders: int) -> dict[str, object]:
    who = number % senders
    kind = SENDER_KINDS[who % len(SENDER_KINDS)]
    address = f"bench{who}@example.com" if kind == "email" else (
        f"+4206015{who:05d}" if kind in ("phone", "whatsapp") else f"tg_bench_{who}"
    )
    return {"kind": kind, "address": address, "name": f"Bench Customer {who}", "verified": True}


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def own_cpu(pid: int) -> float:
    """CPU time (user + system) this one process has used so far, from /proc (Linux); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process and its live descendants (the worker process of
    THREADLINE_WORKER_PROCESS) have used so far, from /proc (Linux)."""
    return sum(own_cpu(one) for one in (pid, *descendants(pid)))


def worker_process_env(worker_process: bool | None) -> dict[str, str]:
    """The server's THREADLINE_WORKER_PROCESS for --worker-process / --no-worker-process (None: its default)."""
    return {} if worker_process is None else {"THREADLINE_WORKER_PROCESS": "1" if worker_process else "0"}


def add_env_argument(parser: argparse.ArgumentParser) -> None:
    """--env NAME=VALUE (repeatable): a setting for the server, whose environment is otherwise cleared of
    THREADLINE_* (`testing.server.process_env`); `env_settings` reads them."""
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a THREADLINE_* setting for the server (repeatable; the server's environment is "
                             "otherwise cleared of them), e.g. --env THREADLINE_WEB_THREADS=4")


def env_settings(args: argparse.Namespace) -> dict[str, str]:
    """The server settings given with --env (`add_env_argument`)."""
    for item in args.env:
        if "=" not in item or not item.startswith("THREADLINE_"):
            raise SystemExit(f"--env wants THREADLINE_NAME=VALUE, not {item!r}")
    return dict(item.split("=", 1) for item in args.env)


def serve_shape(worker_process: bool | None) -> str:
    if worker_process is None:
        return "`threadline serve` as configured by default"
    return ("`threadline serve` with its worker process" if worker_process
            else "one `threadline serve` process (web + worker + scheduler)")


def warm_up(server: ServerProcess, hook: str, secret: str, timeout: float) -> None:
    """Post one message and wait until it is processed: the figures then leave out what a server does once
    (loading the language model, first queries), as a server that has been up for a while would."""
    body = json.dumps({"message_id": "warm-up", "sender": sender(0, 1), "text": "Hello, is anyone there?"}).encode()
    httpx.post(hook, content=body, headers={"X-Threadline-Signature": sign(secret, body),
                                            "Content-Type": "application/json"}, timeout=60)
    server.shell(WAIT_PROCESSED.format(timeout=timeout), timeout=timeout + 60)


def run_clients(concurrency: int, jobs: list[int], request: Callable[[httpx.Client, int], tuple],
                rate: float = 0) -> tuple[float, list[tuple]]:
    """Run `request(client, job)` for every job from `concurrency` threads; returns (seconds, results).

    With `rate`, job i is not sent before i/rate seconds after the start (an open-loop, paced load)."""
    work: queue.Queue[int] = queue.Queue()
    for job in jobs:
        work.put(job)
    results: list[tuple] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(concurrency + 1)
    began: list[float] = []

    def client_loop() -> None:
        with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=1)) as client:
            start_gate.wait()
            local = []
            while True:
                try:
                    job = work.get_nowait()
                except queue.Empty:
                    break
                if rate:
                    time.sleep(max(0.0, began[0] + job / rate - time.perf_counter()))
                local.append(request(client, job))
            with lock:
                results.extend(local)

    threads = [threading.Thread(target=client_loop) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    began.append(time.perf_counter())
    start_gate.wait()
    started = began[0]
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, results


def measure(messages: int = 2000, concurrency: int = 16, senders: int = 200, rate: float = 0,
            database_url: str | None = None, timeout: float = 600, keep: bool = False, profile: int = 0,
            **env: str) -> dict[str, object]:
    """Start a server, post the messages, wait for processing; the figures as a dict (see the module doc).

    With `profile`, every thread of the server runs under cProfile from the first post to the end of the
    processing, and each thread's `profile` costliest functions are printed (`bench/threads.py`)."""
    data_dir = Path(tempfile.mkdtemp(prefix="threadline-bench-"))
    with throwaway_database(database_url, prefix="tlbench") as url, ServerProcess(
        data_dir, database_url=url, THREADLINE_ADMIN_EMAIL="bench@example.com",
        THREADLINE_ADMIN_PASSWORD=PASSWORD, THREADLINE_LOG_LEVEL="WARNING",
        **{**server_env(data_dir, bool(profile)), **env},
    ) as server:
        server.start()
        token = server.run("token", "create", "--email", "bench@example.com").stdout.strip()
        channel = server.python_json_command("channel", "create-api", "--name", "Bench")
        hook = f"{server.url}/hooks/api/{channel['id']}/"
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{server.url}/api/v1/me", headers=auth).status_code == 200

        def post(client: httpx.Client, number: int) -> tuple:
            body = json.dumps({
                "message_id": f"bench-{number}", "sender": sender(number, senders),
                "text": TEXTS[number % len(TEXTS)].format(n=number),
            }, ensure_ascii=False).encode()
            headers = {"X-Threadline-Signature": sign(channel["secret"], body), "Content-Type": "application/json"}
            wall, t0 = time.time(), time.perf_counter()
            answer = client.post(hook, content=body, headers=headers)
            detail = "" if answer.status_code == 202 else answer.text[:200]
            return number, wall, time.perf_counter() - t0, answer.status_code, detail

        warm_up(server, hook, channel["secret"], timeout)
        memory = RssSampler(server.process.pid).start()
        if profile:
            os.kill(server.process.pid, signal.SIGUSR1)  # the profiles start now
        cpu_before = cpu_seconds(server.process.pid)
        threads_before = thread_cpu(server.process.pid, data_dir)
        ingest_seconds, posted = run_clients(concurrency, list(range(messages)), post, rate)
        accepted = [p for p in posted if p[3] == 202]
        collect = COLLECT.format(timeout=timeout, channel=channel["id"])
        collected = json.loads(server.shell(collect, timeout=timeout + 60).splitlines()[-1])
        stored = collected["stored"]
        server_cpu = cpu_seconds(server.process.pid) - cpu_before
        threads_ms = per_item_ms(threads_before, thread_cpu(server.process.pid, data_dir), len(accepted))
        if profile:  # before /healthz below: the profiles cover the messages only
            os.kill(server.process.pid, signal.SIGUSR2)

        def healthz(client: httpx.Client, _n: int) -> tuple:
            return (client.get(f"{server.url}/healthz").status_code,)

        health_seconds, answers = run_clients(concurrency, list(range(messages)), healthz)
        health_ok = sum(1 for a in answers if a[0] == 200)
        memory.stop()
        processes = footprints(server.process.pid)  # each process's RSS/PSS/USS at the end
        stop_code = server.stop()
        errors = server.errors()
        if profile and profile_path(data_dir, server.process.pid).exists():
            print_profile(profile_path(data_dir, server.process.pid).read_bytes(), profile, say)
    if keep:
        say(f"  data directory kept: {data_dir}")
    else:
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)

    e2e_ms, unprocessed, refused, timeline = [], 0, {}, []
    for p in posted:
        if p[3] != 202:
            refused[p[3]] = refused.get(p[3], 0) + 1
    for number, wall, _ack, _status, _detail in accepted:
        state, at = stored.get(f"bench-{number}", [None, None])
        if state == "processed" and at is not None:
            e2e_ms.append((at - wall) * 1000)
            timeline.append((wall, (at - wall) * 1000))
        else:
            unprocessed += 1
    last_done = max((at for _s, at in stored.values() if at), default=float("nan"))
    first_sent = min((p[1] for p in accepted), default=float("nan"))
    return {
        "backend": "PostgreSQL (throwaway database)" if url else "SQLite (WAL) in a temporary data dir",
        "posted": len(posted), "accepted": len(accepted), "refused": refused,
        "first_refusal": next((p[4] for p in posted if p[3] != 202), ""),
        "accepted_per_s": len(accepted) / ingest_seconds,
        "ack_ms": [p[2] * 1000 for p in accepted], "e2e_ms": e2e_ms, "timeline": sorted(timeline),
        "processed_per_s": len(e2e_ms) / (last_done - first_sent) if e2e_ms else float("nan"),
        "drained_per_s": len(accepted) / (collected["drained"] - first_sent),
        "unprocessed": unprocessed, "healthz_per_s": health_ok / health_seconds,
        "server_cpu_ms": server_cpu * 1000 / max(1, len(accepted)), "threads_ms": threads_ms,
        "rss_warm_kib": memory.first_kib, "rss_peak_kib": memory.peak_kib, "rss_final_kib": memory.last_kib,
        **{f"{share}_{moment}_kib": getattr(getattr(memory, f"{moment}_shares"), share)
           for share in ("pss", "uss") for moment in ("first", "peak", "last")},
        "processes": list(processes.values()),
        "stop_code": stop_code, "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000, help="inbound messages to post (default 2000)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--senders", type=int, default=200, help="distinct senders (default 200)")
    parser.add_argument("--rate", type=float, default=0,
                        help="pace the posts at this many messages/s in total (default 0: as fast as possible)")
    parser.add_argument("--database-url", help="PostgreSQL server to use (a throwaway database is created on it)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for processing (default 600)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and print its path")
    parser.add_argument("--tenths", action="store_true",
                        help="also print the stored+threaded p50/max of each tenth of the messages, in POST order "
                             "(where in the run the p99 comes from: a backlog that grows, or the start)")
    parser.add_argument("--worker-process", action=argparse.BooleanOptionalAction, default=None,
                        help="THREADLINE_WORKER_PROCESS=1 (the worker in a process of its own; RSS and CPU summed) "
                             "or =0 (one process); default: serve's default")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="profile every thread of the server (cProfile, bench/threads.py) from the first post "
                             "to the end of the processing, and print each thread's N costliest functions (the "
                             "CPU figures are then the profiled server's)")
    add_env_argument(parser)
    args = parser.parse_args()
    extra = env_settings(args)
    result = measure(args.messages, args.concurrency, args.senders, args.rate, args.database_url, args.timeout,
                     args.keep, args.profile, **{**worker_process_env(args.worker_process), **extra})
    ack_ms, e2e_ms = result["ack_ms"], result["e2e_ms"]
    pace = f"paced at {args.rate:g}/s" if args.rate else "unpaced"
    say(f"threadline bench/ingest.py: {args.messages} messages ({pace}), {args.concurrency} clients, "
          f"{args.senders} senders, {result['backend']}; "
        + serve_shape(args.worker_process))
    refused = result["refused"]
    rows = [
        ("accepted (202)", f"{result['accepted']}/{args.messages}"),
        *([("other answers", ", ".join(f"{n}x {code}" for code, n in sorted(refused.items()))),
           ("first other answer", result["first_refusal"])] if refused else []),
        ("accepted messages/s", f"{result['accepted_per_s']:,.0f}"),
        ("ack latency p50/p95/p99 ms",
         "/".join(f"{percentile(ack_ms, p):.1f}" for p in (50, 95, 99))),
        ("stored+threaded p50/p95/p99 ms",
         "/".join(f"{percentile(e2e_ms, p):.0f}" for p in (50, 95, 99))),
        ("processed end-to-end messages/s", f"{result['processed_per_s']:,.0f}" if e2e_ms else "n/a"),
        ("every subscriber done, messages/s", f"{result['drained_per_s']:,.1f}"),
        ("not processed in time", str(result["unprocessed"])),
        ("server CPU per message, ms", f"{result['server_cpu_ms']:.1f}"),
        *((f"  {name}", f"{ms:.2f}") for name, ms in sorted(result["threads_ms"].items(), key=lambda kv: -kv[1])
          if ms >= 0.05),
        ("server RSS MiB warm/peak/final", "/".join(mib(result[f"rss_{k}_kib"]) for k in ("warm", "peak", "final"))),
        *((f"server {share.upper()} MiB warm/peak/final",
           "/".join(mib(result[f"{share}_{k}_kib"]) for k in ("first", "peak", "last"))) for share in ("pss", "uss")),
        *((f"  {name} RSS/PSS/USS MiB at the end", shares.mib())
          for name, shares in zip(("serve", "worker process", "other child"), result["processes"], strict=False)
          if len(result["processes"]) > 1),
        ("/healthz requests/s (floor)", f"{result['healthz_per_s']:,.0f}"),
        ("ratio ingest / healthz", f"{result['accepted_per_s'] / result['healthz_per_s']:.2f}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        say(f"  {name.ljust(width)}  {value}")
    if args.tenths and result["timeline"]:
        timeline = result["timeline"]
        size = max(1, len(timeline) // 10)
        say("  stored+threaded p50/max ms by tenth of the run (POST order): " + ", ".join(
            f"{percentile([e for _w, e in timeline[i:i + size]], 50):.0f}/{max(e for _w, e in timeline[i:i + size]):.0f}"
            for i in range(0, len(timeline), size)))
    say("  stored+threaded = InboundEvent.processed_at (set in the transaction that stores and threads the "
          "message; server clock) minus the POST's start (client wall clock); same machine.")
    if result["stop_code"] != 0:
        say(f"server exited with {result['stop_code']}:\n{result['errors'][-2000:]}", err=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
