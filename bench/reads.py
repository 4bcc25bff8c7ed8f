"""Benchmark: the agent's reads at size, against a real `threadline serve` process.

Seeds a workspace through `threadline.testing.bulk` (N conversations, about 3 messages each, N/2 contacts with
email identities and a phone for every third) in a temporary data directory (SQLite) or a throwaway
PostgreSQL database (--database-url), starts `threadline serve` without its worker, and times each read one
client at a time (so figures are latency, not throughput) over one kept-alive HTTP connection per client
(httpx.Client), as a browser or an integration would:

- list page of 25 (`GET /api/v1/conversations`, and the workspace's own `/app/x/list`), its next pages;
- the inbox counts (`/app/x/counts`);
- one conversation (`GET /api/v1/conversations/{id}`), its messages (`.../messages`), its timeline
  (`/app/x/conversations/{id}/timeline`, the customer's every conversation) and the conversation screen
  (`/app/x/conversations/{id}`);
- a contact (`GET /api/v1/contacts/{id}`) and contact lookup by email and by phone (`?q=`);
- search (`/app/search`: conversations, messages and contacts) in English, Hebrew, Persian, Thai and Czech
  (without diacritics), a misspelt word, `GET /api/v1/search`, and contact fragments (`?q=` with the start of
  an email address and a phone number's last digits).

Bulk seeding writes rows without events, so the search index is rebuilt after seeding (`threadline search
rebuild`, timed).

Then, in the server's own environment, it captures every SQL statement those reads run and prints the slowest
statements with their query plans (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL), so a full scan of a
big table shows. Not a test: nothing is asserted. `python bench/reads.py --size 100000`; `--size 1000000`
takes several minutes to seed and a few GB of disk.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
from ingest import add_env_argument, env_settings

from threadline.testing.server import ServerProcess, throwaway_database

PASSWORD = "bench-password-4f1c9a7e"
EMAIL = "bench@example.com"
SEARCH_READS = ("search", "API search", "contact fragment")  # the reads that need the search index

SEED = """
import json, time
from threadline.channels.models import Channel
from threadline.tenancy.models import Membership
from threadline.testing.bulk import seed
agent = Membership.objects.select_related("workspace").get(user__email={email!r})
channels = list(Channel.objects.filter(workspace_id=agent.workspace_id).order_by("id"))
started = time.monotonic()
def progress(done):
    print("progress", done, round(time.monotonic() - started, 1), flush=True)
result = seed(agent, channels, {size}, progress=progress)
print(json.dumps({{**result.__dict__, "seconds": time.monotonic() - started}}))
"""

EXPLAIN = """
import json, time
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from threadline.tenancy.models import User
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(User.objects.get(email={email!r}))
auth = {{"HTTP_AUTHORIZATION": "Bearer {token}"}}
vendor = connection.vendor
report = []
for name, url in {urls!r}:
    headers = auth if url.startswith("/api/") else {{"HTTP_X_REQUESTED_WITH": "fetch"}}
    client.get(url, **headers)  # warm
    with CaptureQueriesContext(connection) as ctx:
        status = client.get(url, **headers).status_code
    statements = []
    for q in ctx.captured_queries:
        sql = q["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        plan, best = [], float("nan")
        try:
            with connection.cursor() as cursor:
                runs = []
                for _ in range(3):  # the statement's own time, best of three, as the server ran it
                    t0 = time.perf_counter()
                    cursor.execute(sql)
                    cursor.fetchall()
                    runs.append((time.perf_counter() - t0) * 1000)
                best = min(runs)
                cursor.execute(("EXPLAIN QUERY PLAN " if vendor == "sqlite" else "EXPLAIN ") + sql)
                plan = [" ".join(str(c) for c in row[-1:]) for row in cursor.fetchall()]
        except Exception as exc:
            plan = ["(not re-run: %s)" % type(exc).__name__]
        statements.append({{"ms": best, "sql": sql[:400], "plan": plan}})
    report.append({{"name": name, "status": status, "statements": len(ctx.captured_queries),
                    "total_ms": sum(s["ms"] for s in statements if s["ms"] == s["ms"]),
                    "slowest": sorted(statements, key=lambda s: -(s["ms"] if s["ms"] == s["ms"] else 0))[:2]}})
print(json.dumps(report))
"""


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


def sign_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    client.get("/login")
    answer = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "next": "/app/",
                                         "csrfmiddlewaretoken": client.cookies.get("csrftoken", "")},
                         headers={"Referer": f"{base}/login"})
    if answer.status_code not in (200, 302) or client.get("/app/x/counts", headers={"X-Requested-With": "fetch"}
                                                            ).status_code != 200:
        raise SystemExit(f"could not sign in: {answer.status_code}")
    return client


def server_timing(answer: httpx.Response) -> dict[str, float]:
    """The server's own account of a request (core/server_timing.py): app, db, gc, conn ms; statements;
    the collections the garbage collector ran and the oldest generation among them."""
    figures: dict[str, float] = {}
    for part in answer.headers.get("server-timing", "").split(","):
        name, _, rest = part.strip().partition(";")
        for field in rest.split(";"):
            key, _, value = field.partition("=")
            if key == "dur":
                figures[name] = float(value)
            elif key == "desc" and name == "db":
                figures["statements"] = float(value.strip('"'))
            elif key == "desc" and name == "gc":
                collections, _, oldest = value.strip('"').partition("/")
                figures["collections"], figures["gc_generation"] = float(collections), float(oldest)
    return figures


def file_size(path: Path | None) -> int:
    """The size of `path` now (0 when absent: SQLite removes the WAL file when its last connection closes)."""
    try:
        return path.stat().st_size if path is not None else 0
    except FileNotFoundError:
        return 0


def timed(samples: int, call: Callable[[int], httpx.Response], wal: Path | None = None) -> dict:
    """Client latency percentiles of `samples` calls, the server's own (`app`) percentiles, and what the server
    and the SQLite WAL file said about the slowest samples (those over three times the median)."""
    times, bad, inside = [], 0, []
    for i in range(samples):
        wal_before = file_size(wal)
        t0 = time.perf_counter()
        answer = call(i)
        times.append((time.perf_counter() - t0) * 1000)
        bad += answer.status_code != 200
        figures = server_timing(answer)
        if wal is not None:
            figures["wal_before_kb"] = wal_before / 1024
            figures["wal_after_kb"] = file_size(wal) / 1024
        inside.append(figures)
    median = percentile(times, 50)
    slow = [{"ms": round(ms, 1), **figures} for ms, figures in zip(times, inside, strict=True) if ms > 3 * median]
    app = [figures["app"] for figures in inside if "app" in figures]
    cpu = [figures["cpu"] for figures in inside if "cpu" in figures]
    conn = [figures["conn"] for figures in inside if "conn" in figures]
    return {"n": samples, "p50": median, "p95": percentile(times, 95), "p99": percentile(times, 99),
            "errors": bad, "app_p50": percentile(app, 50), "app_p99": percentile(app, 99),
            "cpu_p50": percentile(cpu, 50), "cpu_p99": percentile(cpu, 99),
            "conn_p50": percentile(conn, 50), "conn_p99": percentile(conn, 99),
            "gc_max": max((figures.get("gc", 0) for figures in inside), default=0),
            "statements": max((figures.get("statements", 0) for figures in inside), default=0),
            "gc_ms": sum(figures.get("gc", 0) for figures in inside), "slow": slow}


def kept_database(url: str, *, fresh: bool) -> str:
    """The PostgreSQL database named in `url`, for --keep and --reuse: (re)created empty when `fresh`."""
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.strip("/")
    if name in ("test", "postgres"):
        raise SystemExit(f"refusing to use the database {name!r} for the bench: name one of its own")
    with psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        if fresh or not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url


def measure(size: int, samples: int, search_samples: int, database_url: str | None, keep: bool,
            reuse: Path | None = None, search: bool = True, **env: str) -> dict:
    data_dir = reuse or Path(tempfile.mkdtemp(prefix="threadline-reads-"))
    keep = keep or reuse is not None
    result: dict = {"size": size}
    if database_url and urlparse(database_url).path.strip("/") and (keep or reuse is not None):
        database = contextlib.nullcontext(kept_database(database_url, fresh=reuse is None))
    elif reuse:
        database = contextlib.nullcontext(None)
    else:
        database = throwaway_database(database_url, prefix="tlreads")
    with database as url, ServerProcess(
        data_dir, database_url=url, THREADLINE_ADMIN_EMAIL=EMAIL, THREADLINE_ADMIN_PASSWORD=PASSWORD,
        THREADLINE_LOG_LEVEL="WARNING", THREADLINE_EMBEDDED_WORKER="0", THREADLINE_SERVER_TIMING="1",
        THREADLINE_API_RATE_LIMIT="1000000",  # one client asking as fast as it can is the point here
        **env,
    ) as server:
        server.start(wait=False)
        server.wait_ready(timeout=900)  # migrations on a loaded machine take a while
        token = server.run("token", "create", "--email", EMAIL).stdout.strip()
        seeded_file = data_dir / "bench-seeded.json"
        if reuse:
            seeded = json.loads(seeded_file.read_text())
            say(f"reusing {seeded['conversations']:,} conversations seeded in {data_dir}")
        else:
            for name in ("Shop backend", "Mobile app"):
                server.python_json_command("channel", "create-api", "--name", name)
            say(f"seeding {size:,} conversations ({'PostgreSQL' if url else 'SQLite'}) ...")
            output = server.shell(SEED.format(email=EMAIL, size=size), timeout=24 * 3600)
            seeded = json.loads(output.strip().splitlines()[-1])
            seeded_file.write_text(json.dumps(seeded))
            started = time.monotonic()
        if not reuse and search:
            say("rebuilding the search index ...")
            say(f"  {server.run('search', 'rebuild', timeout=24 * 3600).stdout.strip()}")
            seeded["index_seconds"] = time.monotonic() - started
            seeded_file.write_text(json.dumps(seeded))
            say(f"  indexed in {seeded['index_seconds']:.0f} s")
        result["seed_seconds"] = seeded["seconds"]
        result["index_seconds"] = seeded.get("index_seconds")
        result["messages"] = seeded["messages"]
        say(f"  seeded {seeded['conversations']:,} conversations, {seeded['messages']:,} messages, "
            f"{seeded['contacts']:,} contacts in {seeded['seconds']:.0f} s")
        server.shell("from django.db import connection\nconnection.cursor().execute('ANALYZE')", timeout=3600)
        api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        app = sign_in(server.url)
        fetch = {"X-Requested-With": "fetch"}
        ids, contacts = seeded["sample_conversation_ids"], seeded["sample_contact_ids"]
        emails, phones = seeded["sample_emails"], seeded["sample_phones"]
        cursors: list[str] = []

        def next_page(i: int) -> httpx.Response:
            params = {"limit": 25, **({"cursor": cursors[-1]} if cursors and i % 20 else {})}
            answer = api.get("/api/v1/conversations", params=params)
            cursor = answer.json().get("next_cursor") if answer.status_code == 200 else None
            if cursor:
                cursors.append(cursor)
            return answer

        reads: list[tuple[str, int, Callable[[int], httpx.Response]]] = [
            ("API list page 1 (25)", samples, lambda i: api.get("/api/v1/conversations", params={"limit": 25})),
            ("API list, next pages", samples, next_page),
            ("/app/ list (all open)", samples, lambda i: app.get("/app/x/list", params={"view": "all"}, headers=fetch)),
            ("/app/ list (mine)", samples, lambda i: app.get("/app/x/list", params={"view": "mine"}, headers=fetch)),
            ("/app/ inbox counts", samples, lambda i: app.get("/app/x/counts", headers=fetch)),
            ("API conversation", samples, lambda i: api.get(f"/api/v1/conversations/{ids[i % len(ids)]}")),
            ("API its messages", samples, lambda i: api.get(f"/api/v1/conversations/{ids[i % len(ids)]}/messages")),
            ("/app/ timeline", samples,
             lambda i: app.get(f"/app/x/conversations/{ids[i % len(ids)]}/timeline", headers=fetch)),
            ("/app/ conversation screen", samples,
             lambda i: app.get(f"/app/x/conversations/{ids[i % len(ids)]}", headers=fetch)),
            ("API contact", samples, lambda i: api.get(f"/api/v1/contacts/{contacts[i % len(contacts)]}")),
            ("contact by email", samples, lambda i: api.get("/api/v1/contacts", params={"q": emails[i % len(emails)]})),
            ("contact by phone", samples, lambda i: api.get("/api/v1/contacts", params={"q": phones[i % len(phones)]})),
            ("search messages (en)", search_samples, lambda i: app.get("/app/search", params={"q": "tracking"},
                                                                       headers=fetch)),
            ("search messages (he)", search_samples, lambda i: app.get("/app/search", params={"q": "חשבונית"},
                                                                       headers=fetch)),
            ("search messages (th)", search_samples, lambda i: app.get("/app/search", params={"q": "การตั้งค่า"},
                                                                       headers=fetch)),
            ("search messages (fa)", search_samples, lambda i: app.get("/app/search", params={"q": "پیگیری"},
                                                                       headers=fetch)),
            ("search messages (cs)", search_samples, lambda i: app.get("/app/search", params={"q": "zasilku"},
                                                                       headers=fetch)),
            ("search a typo (en)", search_samples, lambda i: app.get("/app/search", params={"q": "trakcing"},
                                                                     headers=fetch)),
            ("API search (he)", search_samples, lambda i: api.get("/api/v1/search", params={"q": "חשבונית"})),
            ("contact fragment (email)", search_samples,
             lambda i: api.get("/api/v1/contacts", params={"q": emails[i % len(emails)].split("@")[0][:6]})),
            ("contact fragment (phone)", search_samples,
             lambda i: api.get("/api/v1/contacts", params={"q": phones[i % len(phones)][-7:]})),
        ]
        if not search:  # no index was built: leave out the reads that search it
            reads = [read for read in reads if not read[0].startswith(SEARCH_READS)]
        random.Random(3).shuffle(ids)
        found = api.get("/api/v1/contacts", params={"q": emails[0]}).json().get("items", [])
        result["lookup_finds_one"] = len(found) == 1
        rows = []
        result["load_before"] = os.getloadavg()
        for name, n, call in reads:
            call(0)  # warm
            figures = timed(n, call, None if url else data_dir / "threadline.sqlite3-wal")
            rows.append((name, figures))
            say(f"  {name:<28} p50 {figures['p50']:8.1f}  p95 {figures['p95']:8.1f}  p99 {figures['p99']:8.1f} ms"
                f"  (server p50 {figures['app_p50']:6.1f} p99 {figures['app_p99']:6.1f}, CPU p50 "
                f"{figures['cpu_p50']:5.1f} p99 {figures['cpu_p99']:5.1f}, DB connecting p50 {figures['conn_p50']:5.1f} "
                f"p99 {figures['conn_p99']:5.1f}, {figures['statements']:.0f} statements, "
                f"GC CPU {figures['gc_ms']:.0f} ms in all, {figures['gc_max']:.1f} at most, "
                f"load {os.getloadavg()[0]:.1f})"
                f"{'  errors ' + str(figures['errors']) if figures['errors'] else ''}")
            for sample in figures["slow"][:3]:
                say(f"      slow: {json.dumps(sample)}")
        result["reads"] = dict(rows)
        result["load_after"] = os.getloadavg()
        urls = [("API list page 1", "/api/v1/conversations?limit=25"), ("/app/ list", "/app/x/list?view=all"),
                ("/app/ counts", "/app/x/counts"), ("API conversation", f"/api/v1/conversations/{ids[0]}"),
                ("API messages", f"/api/v1/conversations/{ids[0]}/messages"),
                ("/app/ timeline", f"/app/x/conversations/{ids[0]}/timeline"),
                ("/app/ conversation", f"/app/x/conversations/{ids[0]}"),
                ("API contact", f"/api/v1/contacts/{contacts[0]}"),
                ("contact by email", f"/api/v1/contacts?q={emails[0]}"),
                ("contact by phone", "/api/v1/contacts?q=" + phones[0].replace("+", "%2B")),
                ("search (en)", "/app/search?q=tracking"), ("search (th)", "/app/search?q=%E0%B8%81%E0%B8%B2%E0%B8%A3"),
                ("contact fragment", "/api/v1/contacts?q=" + phones[0][-7:])]
        if not search:
            urls = [(name, path) for name, path in urls if not name.startswith(SEARCH_READS)]
        result["plans"] = json.loads(server.shell(EXPLAIN.format(email=EMAIL, token=token, urls=urls),
                                                  timeout=3600).strip().splitlines()[-1])
        server.stop()
    if keep:
        say(f"  data directory kept: {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def print_plans(plans: list[dict]) -> None:
    say("\nslowest statements per read, with their plans:")
    for read in plans:
        say(f"- {read['name']} (HTTP {read['status']}, {read['statements']} statements, "
            f"{read['total_ms']:.1f} ms in SELECTs)")
        for statement in read["slowest"]:
            sql = re.sub(r"\s+", " ", statement["sql"])
            say(f"    {statement['ms']:7.1f} ms  {sql[:160]}")
            for line in statement["plan"][:6]:
                say(f"               {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="conversations to seed (default 100000)")
    parser.add_argument("--samples", type=int, default=200, help="requests per read (default 200)")
    parser.add_argument("--search-samples", type=int, default=100, help="requests per search (default 100)")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server URL: runs on a throwaway database there (default: SQLite); "
                             "with a database name and --keep or --reuse, that database (never `test`)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (and the named PostgreSQL "
                                                             "database), to --reuse them")
    parser.add_argument("--reuse", type=Path, default=None,
                        help="a data directory kept by an earlier --keep run (with the same --database-url on "
                             "PostgreSQL): measure without seeding")
    parser.add_argument("--no-search", action="store_true",
                        help="skip the search index (hours at 1,000,000 conversations) and the reads that search; "
                             "bench/search.py measures search")
    parser.add_argument("--json-out", type=Path, default=None)
    add_env_argument(parser)
    args = parser.parse_args()
    result = measure(args.size, args.samples, args.search_samples, args.database_url, args.keep, args.reuse,
                     search=not args.no_search, **env_settings(args))
    if not result.get("lookup_finds_one"):
        say("  WARNING: looking a seeded contact up by email did not find exactly one contact")
    print_plans(result["plans"])
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
