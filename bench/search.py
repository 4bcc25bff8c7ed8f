"""Benchmark: search at size, in process, on SQLite (FTS5) or PostgreSQL (tsvector + pg_trgm).

Seeds one workspace through the project's bulk paths: `threadline.testing.bulk` (`--size` messages, about three
per conversation, a contact for every two conversations with an email identity, a phone for every third and a
Telegram handle for every fifth) and the knowledge base's `seed_articles` (`--articles` articles, each
translated into en/he/fa/th/cs), plus a second, small workspace (2 %) so the index is shared. Bulk seeding
writes rows without events, so the index is then rebuilt (`threadline.search.rebuild`, timed).

Then it times, one call at a time (latency, not throughput), per language (en, he, fa, th, cs) and query type
(`word`; `prefix`: the start of a word; `typo`: a misspelt word, answered by the dictionary fallback;
`phrase`: several words, all of which must match):

- `engine`: `search.queries.find` over messages (the ranked hits alone);
- `/app/search`: `search.results.agent_search` (three sections of 20: conversations, messages, contacts,
  with the objects loaded and highlighted: what the page renders, without the HTTP stack);
- `articles`: `knowledge.queries.search_articles` (published articles in the query's language);
- `contacts`: `contacts.queries.list_contacts(q=...)`, the first page of 25 (the contacts list's search box);

and contact lookup (`contacts.queries.list_contacts(q=...)`, first page of 25) by a whole email address, a
whole phone number and a Telegram handle. Nothing is asserted; figures depend on the machine: quote the load
average printed beside them.

    python bench/search.py --size 100000                   # SQLite in a temporary directory
    python bench/search.py --size 1000000 --keep           # prints the directory; --reuse DIR runs again
    python bench/search.py --postgres --size 1000000       # database `bench_search` on 127.0.0.1:5432
    python bench/search.py --postgres --reuse bench_search --explain
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

QUERIES = {  # language → query type → query
    "en": {"word": "invoice", "prefix": "invo", "typo": "invocie", "phrase": "charged twice",
           "absent": "custom"},  # in every contact's email address, in no message
    "he": {"word": "חשבונית", "prefix": "חשבו", "typo": "חשבונתי", "phrase": "עדיין לא הגיעה"},
    "fa": {"word": "فاکتور", "prefix": "فاکت", "typo": "فاکتوز", "phrase": "هنوز نرسیده"},
    "th": {"word": "ใบแจ้งหนี้", "prefix": "ใบแจ้ง", "typo": "ใบแจงหนี้", "phrase": "ยังไม่มาถึง"},
    "cs": {"word": "fakturu", "prefix": "faktur", "typo": "fatkuru", "phrase": "platba strzena"},
}
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/bench_search"


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def configure(args: argparse.Namespace) -> Path | None:
    """Point Django at the bench's database before it starts: a data directory (SQLite) or a PostgreSQL
    database (created when missing). Returns the data directory when it is a temporary one."""
    temporary = None
    if args.postgres:
        import psycopg
        from psycopg import sql

        url = args.postgres if args.postgres != "default" else os.environ.get("THREADLINE_BENCH_DATABASE_URL",
                                                                             DEFAULT_POSTGRES)
        base, name = url.rsplit("/", 1)
        if args.reuse:
            name = args.reuse
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists and not args.reuse:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            if not exists or not args.reuse:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        os.environ["THREADLINE_DATABASE_URL"] = f"{base}/{name}"
        os.environ["THREADLINE_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-search-files-")
    else:
        data_dir = Path(args.reuse) if args.reuse else Path(tempfile.mkdtemp(prefix="bench-search-"))
        temporary = None if (args.reuse or args.keep) else data_dir
        os.environ["THREADLINE_DATA_DIR"] = str(data_dir)
        say(f"data directory: {data_dir}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.config.settings")
    os.environ.setdefault("THREADLINE_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    return temporary


def seed(size: int, articles: int) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from threadline.contacts.identities import match_key
    from threadline.contacts.models import Contact, ContactIdentity
    from threadline.knowledge.seed import seed_articles
    from threadline.search.rebuild import rebuild
    from threadline.testing import bulk, factories

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    for name, share in (("Search Bench", 1.0), ("Small Neighbour", 0.02)):
        admin = factories.make_workspace(name)
        channels = [factories.make_api_channel(admin)]
        conversations = max(1, int(size * share) // 3)
        seeded = bulk.seed(admin, channels, conversations,
                           progress=lambda done, c=conversations, n=name: say(f"  {n}: {done}/{c} conversations"))
        say(f"seeded {name}: {seeded.messages} messages, {seeded.conversations} conversations, "
            f"{seeded.contacts} contacts ({time.monotonic() - started:.0f} s)")
        ids = list(Contact.objects.filter(workspace_id=admin.workspace_id).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), 5000):
            with transaction.atomic():
                ContactIdentity.objects.bulk_create([
                    ContactIdentity(workspace_id=admin.workspace_id, contact_id=pk, kind="telegram",
                                    address=handle_of(pk), verified=True, source="seed",
                                    match_key=match_key("telegram", handle_of(pk)))
                    for pk in ids[start:start + 5000] if pk % 5 == 0])
        if articles:
            seed_articles(admin.workspace, max(1, int(articles * share)))
            say(f"seeded {name}: {max(1, int(articles * share))} articles × 5 languages "
                f"({time.monotonic() - started:.0f} s)")
    rebuilt = time.monotonic()
    counts = rebuild(chunk=5000, report=lambda kind, done: done % 100_000 == 0 and say(f"  indexed {done} {kind}"))
    say(f"rebuilt the index: {counts} in {time.monotonic() - rebuilt:.0f} s")


def handle_of(contact_id: int) -> str:
    return f"tg_user{contact_id}"


def timed(samples: int, call: Callable[[], object]) -> tuple[float, float]:
    call()  # warm: the Thai dictionary, the page cache
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    return percentile(times, 50), percentile(times, 99)


def measure(samples: int) -> None:
    from threadline.contacts.models import ContactIdentity
    from threadline.contacts.queries import list_contacts
    from threadline.knowledge.queries import search_articles
    from threadline.search.queries import AGENT_VISIBILITIES, find
    from threadline.search.results import agent_search
    from threadline.tenancy.models import Membership

    actor = Membership.objects.select_related("workspace", "user").filter(
        workspace__name="Search Bench").order_by("pk").first()
    ws = actor.workspace_id
    say(f"\nload average before: {load()}   samples per query: {samples}")
    say(f"{'lang':4} {'type':7} {'query':16} | {'engine p50':>10} {'p99':>6} | {'/app/search p50':>15} {'p99':>6} | "
        f"{'articles p50':>12} {'p99':>6} | {'contacts p50':>12} {'p99':>6} | hits")
    for language, queries in QUERIES.items():
        for kind, q in queries.items():
            hits = len(find(ws, q, kinds=["message"], visibilities=AGENT_VISIBILITIES, limit=20).hits)
            articles = len(search_articles(ws, q, language=language))
            engine = timed(samples, lambda q=q: find(ws, q, kinds=["message"], visibilities=AGENT_VISIBILITIES,
                                                      limit=20))
            page = timed(samples, lambda q=q: agent_search(actor, q, per_kind=20))
            found = timed(samples, lambda q=q, language=language: search_articles(ws, q, language=language))
            people = timed(samples, lambda q=q: list(list_contacts(actor, q=q).order_by("-pk")[:25]))
            say(f"{language:4} {kind:7} {q[:16]:16} | {engine[0]:10.1f} {engine[1]:6.1f} | {page[0]:15.1f} "
                f"{page[1]:6.1f} | {found[0]:12.1f} {found[1]:6.1f} | {people[0]:12.1f} {people[1]:6.1f} | "
                f"{hits} messages, {articles} articles")
    identities = ContactIdentity.objects.filter(workspace_id=ws).order_by("?")
    say("")
    for kind, label in (("email", "email"), ("phone", "phone"), ("telegram", "handle")):
        addresses = list(identities.filter(kind=kind).values_list("address", flat=True)[:samples])
        if not addresses:
            continue
        times, found = [], 0
        for address in addresses:
            t0 = time.perf_counter()
            found += len(list(list_contacts(actor, q=address)[:25])) == 1
            times.append((time.perf_counter() - t0) * 1000)
        say(f"contact lookup by {label:6} p50 {percentile(times, 50):6.2f} ms  p99 {percentile(times, 99):6.2f} ms"
            f"  ({found}/{len(addresses)} found exactly one)")
    say(f"load average after: {load()}")


def explain() -> None:
    """The plan of one ranked query per kind (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from threadline.search.queries import AGENT_VISIBILITIES, find
    from threadline.tenancy.models import Workspace

    ws = Workspace.objects.get(name="Search Bench").pk
    for kind, q in (("message", "invoice"), ("message", "invo"), ("message", "charged twice"), ("conversation", "invoice"),
                    ("contact", "custom"), ("message", "custom")):
        with CaptureQueriesContext(connection) as ctx:
            find(ws, q, kinds=[kind], visibilities=AGENT_VISIBILITIES, limit=20)
        sql = max((c["sql"] for c in ctx.captured_queries), key=len)
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            say(f"\n== {kind} {q!r}\n" + "\n".join(" ".join(str(c) for c in row[-1:]) for row in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000, help="messages in the big workspace (1,000,000)")
    parser.add_argument("--articles", type=int, default=None, help="articles, ×5 languages (default size / 100)")
    parser.add_argument("--samples", type=int, default=50, help="timed calls per query (50)")
    parser.add_argument("--postgres", nargs="?", const="default", default=None,
                        help=f"PostgreSQL database URL to (re)create (default {DEFAULT_POSTGRES})")
    parser.add_argument("--reuse", help="an already seeded data directory (SQLite) or database name (PostgreSQL)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite data directory")
    parser.add_argument("--explain", action="store_true", help="print the plans of the ranked queries")
    args = parser.parse_args()
    temporary = configure(args)
    try:
        if not args.reuse:
            seed(args.size, args.articles if args.articles is not None else args.size // 100)
        measure(args.samples)
        if args.explain:
            explain()
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    main()
