"""Benchmark: Threadline beside django-helpdesk on the same machine, interleaved in rounds, one table.

The peer is installed and driven by its own harness (`$HD_PEER_SCRIPTS`, by default
`../shared/peers/django-helpdesk` next to this repository: `setup.sh` installs django-helpdesk from PyPI
into `$HD_PEER_DIR`, `start.sh`/`stop.sh` run it under gunicorn, `workload.py` measures it); nothing of it is
copied here. Threadline is measured by the benches of this folder (`ingest.py`, `replies.py`,
`email_ingest.py`). Each round runs both sides one after the other (the order alternates between rounds) and
records the load average before and after, so a round's ratios compare figures taken under the same load.

Workloads (4 clients by default, SQLite on both sides):
- inbound message / ticket accepted: Threadline's API channel webhook (202) vs the peer's REST ticket create;
- processed end to end: Threadline's stored-and-threaded rate and latency (InboundEvent.processed_at) for a
  burst and for a paced rate; the peer creates the ticket inside the request, so its figures are the
  request's (for the paced rate, tickets are POSTed to its REST API at the same pace);
- agent reply accepted / delivered: Threadline's REST reply (201) and its arrival at the provider (a loopback
  receiver) vs the peer's follow-up create (synchronous: accepted = delivered); a burst measures the backlog it
  builds, so Threadline's replies are also paced (`--reply-rate`, below the delivery rate) for the path's own
  accepted and delivered p99 (Threadline only rows);
- email: Threadline over SMTP (a real `threadline serve --smtp-port`, clients in this process), stored and
  threaded, vs the peer's maildir importer (`get_email`, without its start-up time).

`THREADLINE_WORKER_PROCESS=1` in the environment runs every Threadline server with its worker in a process of
its own (`serve`'s default on 2 cores or more).

`--size N` measures the reads at size instead: each side seeded to N tickets / conversations through its own
bulk path (the peer's `hd_seed`, ORM bulk_create; Threadline's `testing.bulk`, about three messages each,
then the search index rebuilt), then one client at a time (latency): the list page, one ticket /
conversation, and a search for a common word (the peer's staff ticket list searching "invoice", in ~10 % of
its tickets; Threadline's `/app/search` for "tracking", in one of the five English texts of its seed), plus
the Threadline-only reads of `bench/reads.py` (its messages, timeline, contact lookup, searches in he/th/fa/cs).

Ratio: how many times better Threadline is (Threadline ÷ peer for rates, peer ÷ Threadline for latencies).
Not a test: nothing is asserted. Run `python bench/compare.py --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import ingest
import reads
import replies
from ingest import percentile, run_clients, say

from threadline.testing.server import free_port

BENCH = Path(__file__).resolve().parent
PEER_SCRIPTS = Path(os.environ.get("HD_PEER_SCRIPTS") or BENCH.parent / ".." / "shared" / "peers" / "django-helpdesk")


class Peer:
    """django-helpdesk through its harness scripts, in `$HD_PEER_DIR` on a port of its own."""

    def __init__(self, scripts: Path, port: int) -> None:
        self.scripts = scripts.resolve()
        self.env = {**os.environ, "HD_PORT": str(port)}
        self.dir = Path(self.env.setdefault("HD_PEER_DIR", str(Path.home() / "peers" / "django-helpdesk")))
        self.url = f"http://127.0.0.1:{port}"

    def script(self, name: str, *args: str) -> None:
        subprocess.run(["bash", str(self.scripts / name), *args], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, timeout=1800)

    def workload(self, *args: str) -> dict[str, object]:
        out = Path(tempfile.mkstemp(prefix="hd-workload-", suffix=".json")[1])
        subprocess.run([str(self.dir / "venv" / "bin" / "python"), str(self.scripts / "workload.py"),
                        "--base-url", self.url, "--list-sizes", "", "--json-out", str(out), *args],
                       env=self.env, check=True, stdout=subprocess.DEVNULL, timeout=3600)
        result = json.loads(out.read_text())
        out.unlink()
        return result

    def paced_create(self, queue_id: int, count: int, concurrency: int, rate: float) -> list[float]:
        """POST `count` tickets to the peer's REST API at `rate`/s; latencies in ms."""
        token = (self.dir / "run" / "api_token").read_text().strip()

        def create(client: httpx.Client, number: int) -> tuple:
            t0 = time.perf_counter()
            answer = client.post(f"{self.url}/api/tickets/", headers={"Authorization": f"Token {token}"}, json={
                "queue": queue_id, "title": f"Paced ticket {number}", "description": "My order arrived damaged.",
                "submitter_email": f"paced{number % 200}@example.com", "priority": 3})
            return answer.status_code, (time.perf_counter() - t0) * 1000

        _seconds, results = run_clients(concurrency, list(range(count)), create, rate)
        return [ms for status, ms in results if status == 201]


def peer_round(peer: Peer, args: argparse.Namespace) -> dict[str, float]:
    peer.script("start.sh")
    try:
        result = peer.workload("--phases", "create,followup,email", "--n", str(args.messages),
                               "--concurrency", str(args.concurrency), "--email-k", str(args.emails))
        phases = {row["phase"].split("@")[0]: row for row in result["phases"]}
        paced = peer.paced_create(result["db_before"]["queues"]["support"], int(args.rate * args.paced_seconds),
                                  args.concurrency, args.rate)
    finally:
        peer.script("stop.sh")
    create, followup, email = phases["create_ticket"], phases["add_followup"], phases["email_get_email"]
    return {
        "accepted": create["throughput_rps"], "processed": create["throughput_rps"],
        "burst_p50": create["p50_ms"], "burst_p99": create["p99_ms"],
        "paced_p50": percentile(paced, 50), "paced_p99": percentile(paced, 99), "paced_ack_p99": percentile(paced, 99),
        "reply_accepted": followup["throughput_rps"], "reply_delivered": followup["throughput_rps"],
        "reply_ack_p99": followup["p99_ms"], "reply_delivered_p99": followup["p99_ms"],
        # the importer's own rate without its start-up, unless the start-up is most of the run (then noise)
        "email": email["throughput_excl_startup"] if email["wall_s"] > 2 * email["startup_baseline_s"]
        else email["throughput_msgs_per_s"],
    }


EMAIL_RATE = re.compile(r"stored and threaded:\s+([\d.]+) msg/s")
SMTP_RATE = re.compile(r"accepted \(250\):\s+([\d.]+) msg/s")


def threadline_round(args: argparse.Namespace) -> dict[str, float]:
    # the servers' environment is their own (`testing.server.process_env` drops THREADLINE_*): passed on here
    shape = {"THREADLINE_WORKER_PROCESS": "1"} if os.environ.get("THREADLINE_WORKER_PROCESS") == "1" else {}
    burst = ingest.measure(args.messages, args.concurrency, rate=0, timeout=900, **shape)
    paced = ingest.measure(int(args.rate * args.paced_seconds), args.concurrency, rate=args.rate, timeout=900,
                           **shape)
    answers = replies.measure(args.replies, args.concurrency, **shape)
    paced_answers = replies.measure(int(args.reply_rate * args.paced_seconds), args.concurrency, rate=args.reply_rate,
                                    **shape)
    worker_process = ["--worker-process"] if shape else []
    email = subprocess.run([sys.executable, str(BENCH / "email_ingest.py"), "-n", str(args.emails),
                            "-c", str(args.concurrency), *worker_process],
                           capture_output=True, text=True, check=True, timeout=1800,
                           env={k: v for k, v in os.environ.items() if not k.startswith("THREADLINE_")}).stdout
    return {
        "accepted": burst["accepted_per_s"], "processed": burst["processed_per_s"],
        "burst_p50": percentile(burst["e2e_ms"], 50), "burst_p99": percentile(burst["e2e_ms"], 99),
        "paced_p50": percentile(paced["e2e_ms"], 50), "paced_p99": percentile(paced["e2e_ms"], 99),
        "paced_ack_p99": percentile(paced["ack_ms"], 99),
        "reply_accepted": answers["accepted_per_s"], "reply_delivered": answers["delivered_per_s"],
        "reply_ack_p99": percentile(answers["ack_ms"], 99),
        "reply_delivered_p99": percentile(answers["delivered_ms"], 99),
        "paced_reply_ack_p99": percentile(paced_answers["ack_ms"], 99),
        "paced_reply_delivered_p99": percentile(paced_answers["delivered_ms"], 99),
        "email": float(EMAIL_RATE.search(email).group(1)), "email_smtp": float(SMTP_RATE.search(email).group(1)),
    }


def workloads(args: argparse.Namespace) -> list[tuple[str, str, bool]]:
    """(label, key, higher is better) of each table row."""
    return [
        ("inbound accepted, msg/s", "accepted", True),
        ("inbound processed end to end, msg/s", "processed", True),
        (f"burst of {args.messages}: stored+threaded p50, ms", "burst_p50", False),
        (f"burst of {args.messages}: stored+threaded p99, ms", "burst_p99", False),
        (f"paced {args.rate:g}/s: stored+threaded p50, ms", "paced_p50", False),
        (f"paced {args.rate:g}/s: stored+threaded p99, ms", "paced_p99", False),
        (f"paced {args.rate:g}/s: acknowledgement p99, ms", "paced_ack_p99", False),
        ("agent reply accepted, /s", "reply_accepted", True),
        ("agent reply delivered, /s", "reply_delivered", True),
        ("agent reply accepted p99, ms", "reply_ack_p99", False),
        (f"agent reply delivered p99 (a burst of {args.replies}), ms", "reply_delivered_p99", False),
        (f"email, {args.emails} messages: processed msg/s", "email", True),
    ]


def peer_at_size(peer: Peer, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """The peer seeded to --size tickets (its `hd_seed`), then its list, one ticket and a search, one client."""
    samples = str(args.size_samples)
    peer.script("start.sh")
    try:
        result = peer.workload("--phases", "retrieve,list,search", "--list-sizes", str(args.size),
                               "--n-at-size", samples, "--n-list", samples, "--n-search", samples,
                               "--search-keywords", "invoice", "--list-concurrency", "1",
                               "--phase-seconds", str(args.size_seconds))
    finally:
        peer.script("stop.sh")
    phases = {row["phase"].split("@")[0]: row for row in result["phases"]}

    def read(phase: str) -> dict[str, float]:  # answered requests: fewer than asked when --size-seconds ran out
        row = phases[phase]
        return {"p50": row["p50_ms"], "p99": row["p99_ms"], "n": row["ok"], "errors": row["errors"]}

    return {"seed": {"seconds": float(phases["seed"]["seconds"])}, "list": read("list_tickets"),
            "one": read("retrieve_ticket"), "search": read("search[invoice]")}


def threadline_at_size(args: argparse.Namespace) -> tuple[dict[str, dict[str, float]], dict[str, dict]]:
    """Threadline seeded to --size conversations (`bench/reads.py`: the bulk path and the index rebuilt),
    then every read of reads.py; the rows beside the peer's, and all the reads."""
    result = reads.measure(args.size, args.size_samples, args.size_samples, None, False, search=True)
    figures = result["reads"]
    return {
        "seed": {"seconds": result["seed_seconds"] + (result["index_seconds"] or 0)},
        "list": figures["API list, next pages"],
        "one": figures["API conversation"],
        "search": figures["search messages (en)"],
    }, figures


def at_size(peer: Peer, args: argparse.Namespace) -> list[tuple[str, str, str, str, str]]:
    """The --size mode's rows: (load, workload, peer, Threadline, ratio)."""
    before = os.getloadavg()
    theirs = peer_at_size(peer, args)
    ours, every_read = threadline_at_size(args)
    load = f"{before[0]:.1f}→{os.getloadavg()[0]:.1f}"
    rows = [(load, f"seeded to {args.size:,} (peer: tickets; Threadline: conversations, ~3 messages each, and "
                   "the search index), s", f"{theirs['seed']['seconds']:,.0f}", f"{ours['seed']['seconds']:,.0f}", "")]
    for label, key in ((f"list page of 25 at {args.size:,} (peer: a random page; Threadline: the next pages)", "list"),
                       (f"one ticket / conversation at {args.size:,}", "one"),
                       (f"search a common word at {args.size:,} (peer: 'invoice'; Threadline: 'tracking')", "search")):
        peer_read = theirs[key]
        answered = f" ({peer_read['n']} of {args.size_samples}" + (
            f", errors {peer_read['errors']})" if peer_read["errors"] else ")")
        for pct in ("p50", "p99"):
            value = ratio(peer_read[pct], ours[key][pct], False)  # nan when nothing was answered in time (None)
            shown = "—" if peer_read[pct] is None else f"{peer_read[pct]:,.1f}"
            rows.append((load, f"{label}: {pct}, ms", shown + answered, f"{ours[key][pct]:,.1f}",
                         f"{value:,.1f}×" if value == value else ""))
    for name, figures in every_read.items():
        rows.append((load, f"{name} at {args.size:,}: p50 / p99, ms (Threadline only)", "—",
                     f"{figures['p50']:,.1f} / {figures['p99']:,.1f}", ""))
    return rows


def print_table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    say(title)
    widths = [max(len(str(row[i])) for row in (*rows, header)) for i in range(len(header))]
    say(" | ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    say("-+-".join("-" * w for w in widths))
    for row in rows:
        say(" | ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))


def ratio(peer: float, ours: float, higher_better: bool) -> float:
    if not peer or not ours or peer != peer or ours != ours:
        return float("nan")
    return ours / peer if higher_better else peer / ours


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--messages", type=int, default=1000, help="burst size, inbound and tickets (default 1000)")
    parser.add_argument("--concurrency", type=int, default=4, help="clients on each side (default 4)")
    parser.add_argument("--rate", type=float, default=20, help="paced inbound rate, msg/s (default 20)")
    parser.add_argument("--paced-seconds", type=float, default=20, help="length of the paced run (default 20)")
    parser.add_argument("--replies", type=int, default=500, help="agent replies (default 500)")
    parser.add_argument("--reply-rate", type=float, default=10,
                        help="paced agent replies per second, below the delivery rate (default 10)")
    parser.add_argument("--emails", type=int, default=500, help="emails (default 500)")
    parser.add_argument("--skip-setup", action="store_true", help="the peer is installed already")
    parser.add_argument("--size", type=int, default=0, metavar="N",
                        help="instead of the rounds: both sides seeded to N tickets / conversations, then the reads "
                             "and searches at that size")
    parser.add_argument("--size-samples", type=int, default=20,
                        help="with --size: requests per read on each side (default 20; the peer's list page at "
                             "1,000,000 tickets takes tens of seconds)")
    parser.add_argument("--size-seconds", type=float, default=600,
                        help="with --size: the most one of the peer's reads may take in all (default 600 s)")
    args = parser.parse_args()

    peer = Peer(PEER_SCRIPTS, int(os.environ.get("HD_PORT") or free_port()))
    if not args.skip_setup:
        peer.script("setup.sh", "--reset-db")
    if args.size:
        print_table(f"bench/compare.py --size {args.size}: django-helpdesk (peer) vs Threadline, SQLite on both "
                    f"sides, one client, {os.cpu_count()} CPUs; ratio = times faster for Threadline",
                    ("loadavg 1m", "workload", "django-helpdesk", "Threadline", "ratio"), at_size(peer, args))
        return 0
    rows: list[tuple[int, str, str, str, str, str]] = []
    ratios: dict[str, list[float]] = {}
    for number in range(1, args.rounds + 1):
        before = os.getloadavg()
        sides: dict[str, dict[str, float]] = {}
        for side in (("peer", "threadline") if number % 2 else ("threadline", "peer")):
            sides[side] = peer_round(peer, args) if side == "peer" else threadline_round(args)
        after = os.getloadavg()
        load = f"{before[0]:.1f}→{after[0]:.1f}"
        for label, key, higher in workloads(args):
            theirs, ours = sides["peer"].get(key, float("nan")), sides["threadline"].get(key, float("nan"))
            value = ratio(theirs, ours, higher)
            ratios.setdefault(label, []).append(value)
            rows.append((number, load, label, f"{theirs:,.1f}", f"{ours:,.1f}", f"{value:.2f}×"))
        rows.append((number, load, "email over SMTP, accepted msg/s (Threadline only)", "—",
                     f"{sides['threadline']['email_smtp']:,.1f}", ""))
        for what, key in (("accepted", "paced_reply_ack_p99"), ("delivered", "paced_reply_delivered_p99")):
            rows.append((number, load, f"agent reply paced {args.reply_rate:g}/s: {what} p99, ms (Threadline only)",
                         "—", f"{sides['threadline'][key]:,.1f}", ""))
        say(f"round {number} done (load {load}): " + json.dumps(sides), err=True)  # a long run's partial result
    print_table(f"bench/compare.py: django-helpdesk (peer, {PEER_SCRIPTS.resolve()}) vs Threadline, {args.rounds} "
                f"rounds, {args.concurrency} clients, SQLite on both sides, {os.cpu_count()} CPUs; ratio = times better "
                "for Threadline", ("round", "loadavg 1m", "workload", "django-helpdesk", "Threadline", "ratio"), rows)
    say("median ratio over the rounds: " + "; ".join(
        f"{label}: {statistics.median(values):.2f}×" for label, values in ratios.items()
        if all(v == v for v in values)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
