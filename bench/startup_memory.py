"""Benchmark: the resident memory each start-up step of `threadline serve` adds, in one process.

Loads what `serve` loads before it takes work, in its order, and reads this process's VmRSS from /proc after
each step: Django (`django.setup()`), the `serve` command's imports, the ASGI application with its URL
patterns (every app, view and API schema), the language model (one `detect`), the Thai dictionary (one
`index_text`), every template compiled and each language's catalog (`load_screens`), the heap settled. With
`--by-package`, tracemalloc's count of what each package allocated (it slows start-up and inflates RSS, so
its RSS figures are not the ones to quote).

Uses a new temporary data directory unless THREADLINE_DATA_DIR is set (the language model's cache is
written there on the first run: run twice to see a later start). Not a test: nothing is asserted.

    .venv/bin/python bench/startup_memory.py
    .venv/bin/python bench/startup_memory.py --by-package
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def package_of(filename: str) -> str:
    """The installed package, `threadline.<app>`, or `stdlib.<module>` a file belongs to."""
    for pattern, prefix in ((r"site-packages/([^/]+)", ""), (r"/threadline/([^/]+)", "threadline."),
                            (r"python3\.\d+/([^/]+)", "stdlib.")):
        found = re.search(pattern, filename)
        if found:
            return prefix + found.group(1).removesuffix(".py")
    return filename


def steps() -> list[tuple[str, Callable[[], object]]]:
    def setup() -> None:
        import django

        django.setup()

    def serve_imports() -> None:
        from threadline.core.management.commands import serve  # noqa: F401

    def application() -> None:
        from threadline.core.management.commands.serve import load_application

        load_application()

    def language() -> None:
        from threadline.language.detection import detect

        detect("Hello, my order has not arrived yet", ("en", "cs"))

    def thai() -> None:
        from threadline.search.analysis import index_text

        index_text("สวัสดีค่ะ คำสั่งซื้อ")

    def screens() -> None:
        from threadline.core.warmup import load_screens

        load_screens()

    def settle() -> None:
        from threadline.core.warmup import settle_heap

        settle_heap()

    return [("Python, django.setup()", setup), ("the serve command's imports", serve_imports),
            ("the ASGI application and URL patterns", application), ("the language model (one detect)", language),
            ("the Thai dictionary (one index_text)", thai), ("templates and catalogs (load_screens)", screens),
            ("the heap settled", settle)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--by-package", action="store_true", help="tracemalloc's MiB per package after each step")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.config.settings")
    os.environ.setdefault("THREADLINE_DATA_DIR", tempfile.mkdtemp(prefix="threadline-startup-"))
    if args.by_package:
        import tracemalloc

        tracemalloc.start()
    say(f"threadline bench/startup_memory.py: data directory {os.environ['THREADLINE_DATA_DIR']}")
    before = rss_mib()
    say(f"  {'step':45s} {'RSS MiB':>8s} {'added':>7s}")
    say(f"  {'Python started':45s} {before:8.1f}")
    for name, step in steps():
        step()
        now = rss_mib()
        say(f"  {name:45s} {now:8.1f} {now - before:+7.1f}")
        before = now
        if args.by_package:
            sizes: dict[str, int] = {}
            for stat in tracemalloc.take_snapshot().statistics("filename"):
                key = package_of(stat.traceback[0].filename)
                sizes[key] = sizes.get(key, 0) + stat.size
            top = sorted(sizes.items(), key=lambda item: -item[1])[:8]
            say("      " + ", ".join(f"{key} {size / 2**20:.1f}" for key, size in top))
    say(f"  modules loaded: {len(sys.modules)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
