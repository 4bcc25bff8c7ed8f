"""What a browser test's steps cost on one page: axe-core, screenshots, a sign-in.

Starts a `threadline serve` (a new SQLite data directory, migrated at start), signs the admin in with Debian's
Chromium (Playwright, as the browser tests do: `threadline.web.testkit`) and loads admin and workspace pages
at 1280 and 390 px. On each page load it runs one of the variants compared, taking turns so that every variant
sees every page, and prints per call: wall time, this process's CPU (`getrusage`) and the CPU of Chromium and
Playwright's driver (`/proc/<pid>/stat` of this process's descendants; 10 ms ticks, so read the averages).

    .venv/bin/python bench/browser_page.py --what axe       # axe: the package's run vs testkit.axe_findings
    .venv/bin/python bench/browser_page.py --what shots     # screenshots: viewport PNG, JPEG 80, full-page PNG
    .venv/bin/python bench/browser_page.py --what sign-in   # a new context signed in by the form vs from saved cookies
    .venv/bin/python bench/browser_page.py                  # all three, one server
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from threadline.web.testkit import axe_findings, launch, set_up_workspace, settle, sign_in, threadline_server

PAGES = ["/app/admin/", "/app/admin/workspace", "/app/admin/channels", "/app/admin/roles", "/app/admin/security",
         "/app/reports", "/app/knowledge", "/app/", "/app/admin/people", "/app/audit"]
SIZES = ({"width": 1280, "height": 800}, {"width": 390, "height": 844})
TICK = os.sysconf("SC_CLK_TCK")


def browser_cpu() -> float:
    """CPU seconds of the live descendants of this process named chromium* or node (Playwright's driver)."""
    procs: dict[int, tuple[int, str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        close = stat.rindex(")")
        fields = stat[close + 2:].split()
        procs[int(entry)] = (int(fields[1]), stat[stat.index("(") + 1:close], (int(fields[11]) + int(fields[12])) / TICK)
    me = os.getpid()

    def descends(pid: int) -> bool:
        while pid in procs and pid != me:
            pid = procs[pid][0]
        return pid == me

    return sum(cpu for pid, (_, name, cpu) in procs.items()
               if pid != me and (name.startswith("chrom") or name == "node") and descends(pid))


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Figures:
    def __init__(self) -> None:
        self.sums: dict[str, list[float]] = {}

    def time(self, name: str, step: Callable[[], Any]) -> None:
        wall, mine, browser = time.perf_counter(), own_cpu(), browser_cpu()
        step()
        row = self.sums.setdefault(name, [0.0, 0.0, 0.0, 0])
        row[0] += time.perf_counter() - wall
        row[1] += own_cpu() - mine
        row[2] += browser_cpu() - browser
        row[3] += 1

    def print(self) -> None:
        say(f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
        say(f"{'variant':34} {'calls':>5} {'wall ms':>8} {'own CPU ms':>10} {'Chromium+driver CPU ms':>22}")
        for name, (wall, mine, browser, calls) in self.sums.items():
            say(f"{name:34} {calls:5d} {wall / calls * 1000:8.1f} {mine / calls * 1000:10.1f} {browser / calls * 1000:22.1f}")


def package_axe(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.response["passes"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--what", action="append", choices=["axe", "shots", "sign-in"])
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    figures = Figures()
    with tempfile.TemporaryDirectory() as workdir, threadline_server(Path(workdir) / "data", None) as server, \
            sync_playwright() as driver:
        set_up_workspace(server)
        browser = launch(driver)
        context = browser.new_context(viewport=SIZES[0])
        page = context.new_page()
        sign_in(page, server.url)
        what = options.what or ["axe", "shots", "sign-in"]
        if "sign-in" in what:
            cookies = {"cookies": context.cookies(), "origins": []}
            for turn in range(options.rounds * 2):
                def by_form() -> None:
                    fresh = browser.new_context(viewport=SIZES[0])
                    sign_in(fresh.new_page(), server.url)
                    fresh.close()

                def from_cookies() -> None:
                    fresh = browser.new_context(viewport=SIZES[0], storage_state=cookies)
                    landed = fresh.new_page()
                    landed.goto(f"{server.url}/app/")
                    settle(landed)
                    fresh.close()

                steps = [("new context, sign-in form, /app/", by_form), ("new context from cookies, /app/", from_cookies)]
                for name, step in steps if turn % 2 else reversed(steps):
                    figures.time(name, step)
        if "axe" in what or "shots" in what:
            shots = Path(workdir)
            variants = (["package Axe().run", "testkit.axe_findings"] if "axe" in what else []) + \
                (["shots"] if "shots" in what else [])
            for turn in range(options.rounds):
                for calls, (path, size) in enumerate((path, size) for path in PAGES for size in SIZES):
                    page.set_viewport_size(size)
                    page.goto(server.url + path)
                    settle(page)
                    variant = variants[(calls + turn) % len(variants)]  # every variant sees every page
                    if variant == "package Axe().run":
                        figures.time(variant, lambda: package_axe(page))
                    elif variant == "testkit.axe_findings":
                        figures.time(variant, lambda: axe_findings(page))
                    else:
                        steps = [
                            ("PNG, viewport", lambda: page.screenshot(path=str(shots / "a.png"))),
                            ("JPEG 80, viewport", lambda: page.screenshot(path=str(shots / "a.jpg"), type="jpeg",
                                                                        quality=80)),
                            ("PNG, full page", lambda: page.screenshot(path=str(shots / "b.png"), full_page=True)),
                        ]
                        for name, step in steps if turn % 2 else reversed(steps):
                            figures.time(name, step)
        browser.close()
    figures.print()


if __name__ == "__main__":
    main()
