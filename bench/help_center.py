"""Benchmark: the public help center's pages at size, in process, on SQLite or PostgreSQL.

Seeds a workspace through the knowledge base's `seed_articles` (`--articles` articles, each translated into
en/he/fa/th/cs: 50,000 translations at the default 10,000), a second, small workspace (2 %) so tables are
shared, and some "was this helpful?" answers; then requests each page type with Django's test client (the
whole middleware stack, in this process: what a server spends, without the network) and prints p50/p99 per
page type, in three states:

- `cold`: the page is rendered (the content version is replaced before each request, as after a publication,
  and the home page's most liked articles are counted again; the process has answered one request of each page
  type first, so its templates are loaded);
- `warm`: the page comes from the cache (Django's cache: process memory here, Redis in scaled mode);
- `304`: the browser revalidates with `If-None-Match` and gets Not Modified.

Each figure is the wall clock (p50/p99) and the CPU time this process spent (p99: on a machine shared with
other work the wall clock waits for a CPU, the CPU time does not).

Page types: home, category, section (first and last page of 50), article (random articles and languages),
search (not cached: one state), contact us, a help center's sitemap index and its sitemap files (1,000 URLs
each), and a 404. Nothing is asserted; figures depend on the machine:
quote the load average printed beside them. `--explain` prints the plan of every query each page runs
(EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL).

    python bench/help_center.py                              # 10,000 articles, SQLite in a temporary directory
    python bench/help_center.py --articles 2000 --samples 50
    python bench/help_center.py --keep                       # prints the directory; --reuse DIR runs again
    python bench/help_center.py --postgres --explain         # database `bench_help_center` on 127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import configure as configure_database  # noqa: E402 - the benches' shared setup
from search import load, percentile, say  # noqa: E402

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/bench_help_center"
LANGUAGES = ("en", "he", "fa", "th", "cs")
SEARCHES = {"en": "password", "he": "הסיסמה", "fa": "رمز عبور", "th": "รหัสผ่าน", "cs": "heslo"}


def configure(args: argparse.Namespace) -> Path | None:
    """bench/search.py's: a data directory (SQLite) or a PostgreSQL database, this bench's by default."""
    if args.postgres == "default":
        args.postgres = os.environ.get("THREADLINE_BENCH_DATABASE_URL", DEFAULT_POSTGRES)
    return configure_database(args)


def seed(articles: int) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from threadline.knowledge.models import ArticleFeedback, ArticleTranslation
    from threadline.knowledge.seed import seed_articles
    from threadline.testing import factories

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    for name, share in (("Help Bench", 1.0), ("Small Neighbour", 0.02)):
        admin = factories.make_workspace(name)
        count = max(1, int(articles * share))
        seeded = seed_articles(admin.workspace, count)
        say(f"seeded {name}: {count} articles × {len(LANGUAGES)} languages ({time.monotonic() - started:.0f} s)")
        rows = random.Random(7).sample(seeded.translation_ids, min(len(seeded.translation_ids), 2000))
        with transaction.atomic():
            ArticleFeedback.objects.bulk_create([
                ArticleFeedback(workspace_id=admin.workspace_id, translation_id=pk, helpful=n % 3 != 0)
                for n, pk in enumerate(rows * 3)])
    say(f"translations: {ArticleTranslation.objects.count()}, feedback rows: {ArticleFeedback.objects.count()}")


def pages() -> dict[str, Callable[[random.Random], str]]:
    """Page type → a function of a random generator giving one path of that type."""
    from threadline.helpcenter import pages as urls
    from threadline.helpcenter import queries
    from threadline.knowledge.models import ArticleTranslation, HelpCenter, Section

    center = HelpCenter.objects.select_related("workspace").get(workspace__name="Help Bench")
    section = Section.objects.filter(category__help_center=center).order_by("pk").first()
    category = section.category
    category.help_center, section.category = center, category
    public = ArticleTranslation.objects.filter(workspace_id=center.workspace_id)
    sample = list(public.order_by("?").values_list("article_id", "language", "slug")[:2000])
    last = max(1, -(-section.articles.count() // queries.SECTION_PAGE))
    return {
        "home": lambda r: urls.home_url(center, r.choice(LANGUAGES)),
        "category": lambda r: urls.category_url(center, r.choice(LANGUAGES), category),
        "section p1": lambda r: urls.section_url(center, r.choice(LANGUAGES), section),
        f"section p{last}": lambda r: urls.section_url(center, r.choice(LANGUAGES), section) + f"?page={last}",
        "article": lambda r: urls.article_url(center, *(lambda a: (a[1], a[0], a[2]))(r.choice(sample))),
        "search": lambda r: (lambda lang: urls.named_url("search", center, lang) + f"?q={SEARCHES[lang]}")(
            r.choice(LANGUAGES)),
        "contact": lambda r: urls.named_url("contact", center, r.choice(LANGUAGES)),
        "sitemap index": lambda r: f"/help/{center.slug}/sitemap.xml",
        "sitemap file": lambda r: f"/help/{center.slug}/sitemap-{r.randint(1, queries.sitemap_pages(center))}.xml",
        "404": lambda r: f"/help/{center.slug}/en/articles/{10 ** 9 + r.randint(0, 1000)}/",
    }


def client():  # noqa: ANN201 - django.test.Client
    """A test client speaking to the installation's own host name (ALLOWED_HOSTS)."""
    from urllib.parse import urlparse

    from django.conf import settings
    from django.test import Client

    return Client(HTTP_HOST=urlparse(settings.PUBLIC_URL).netloc)


def measure(samples: int) -> None:
    from django.core.cache import cache

    from threadline.helpcenter import pagecache, queries
    from threadline.tenancy.models import Workspace

    workspace_id = Workspace.objects.get(name="Help Bench").pk
    browser = client()
    rng = random.Random(13)
    logging.getLogger("django.request").setLevel(logging.ERROR)  # not a line per 404 measured
    kinds = pages()
    for path_of in kinds.values():  # the process's own first request per page type (templates loaded, URLs
        browser.get(path_of(random.Random(1)))  # resolved) is not what a first render costs
    say(f"\nload average before: {load()}   samples per page type and state: {samples}")
    say("ms: p50 and p99 of the server time (wall clock), and p99 of the CPU time this process spent on the request "
        "(SQLite's included; not PostgreSQL's): on a loaded machine the wall clock waits for the CPU, the CPU time "
        "stays close to an idle machine's")
    say(f"{'page':14} | {'cold p50':>8} {'p99':>7} {'cpu99':>6} | {'warm p50':>8} {'p99':>7} {'cpu99':>6} | "
        f"{'304 p50':>8} {'p99':>7} {'cpu99':>6} | status")
    for name, path_of in kinds.items():
        paths = [path_of(rng) for _ in range(samples)]
        figures, statuses = [], set()
        for state in ("cold", "warm", "304"):
            if name in ("search", "404") and state != "cold":
                figures.append(None)
                continue
            times, cpu = [], []
            for path in paths:
                headers = {}
                if state == "cold":  # as after a publication, and the readers' feedback counted again too
                    pagecache.bump(workspace_id)
                    cache.delete(queries.LIKED_KEY.format(workspace_id))
                else:
                    first = browser.get(path)  # make sure it is cached (and get its ETag)
                    if state == "304":
                        headers["HTTP_IF_NONE_MATCH"] = first.get("ETag", "")
                t0, c0 = time.perf_counter(), time.thread_time()
                answer = browser.get(path, **headers)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.thread_time() - c0) * 1000)
                statuses.add(answer.status_code)
            figures.append((percentile(times, 50), percentile(times, 99), percentile(cpu, 99)))
        cells = " | ".join(f"{f[0]:8.1f} {f[1]:7.1f} {f[2]:6.1f}" if f else f"{'-':>8} {'-':>7} {'-':>6}"
                           for f in figures)
        say(f"{name:14} | {cells} | {','.join(map(str, sorted(statuses)))}")
    say(f"load average after: {load()}")


def explain() -> None:
    """Every query of each page type, cold, with its plan."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from threadline.helpcenter import pagecache
    from threadline.tenancy.models import Workspace

    workspace_id = Workspace.objects.get(name="Help Bench").pk
    browser, rng = client(), random.Random(5)
    prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    for name, path_of in pages().items():
        pagecache.bump(workspace_id)
        path = path_of(rng)
        with CaptureQueriesContext(connection) as ctx:
            browser.get(path)
        say(f"\n=== {name}: {path} ({len(ctx.captured_queries)} queries)")
        for captured in ctx.captured_queries:
            sql = captured["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            say(f"-- {sql[:300]}{'…' if len(sql) > 300 else ''}")
            with connection.cursor() as cursor:
                cursor.execute(prefix + sql)
                for row in cursor.fetchall():
                    say("   " + " ".join(str(cell) for cell in row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--postgres", nargs="?", const="default", default=None,
                        help="a PostgreSQL URL (default THREADLINE_BENCH_DATABASE_URL or " + DEFAULT_POSTGRES + ")")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite data directory")
    parser.add_argument("--reuse", help="a kept data directory (or database name) to measure again, without seeding")
    parser.add_argument("--explain", action="store_true", help="print every page's queries with their plans")
    args = parser.parse_args()
    temporary = configure(args)
    try:
        if not args.reuse:
            seed(args.articles)
        measure(args.samples)
        if args.explain:
            explain()
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    main()
