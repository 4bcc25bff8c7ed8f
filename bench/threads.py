"""Per-thread CPU and profiles of a real server process, for the benches that start one.

`bench/thread_profile` (put first on the server's PYTHONPATH by `server_env`) names each thread the server
starts and, with a profile file, runs each under a cProfile of its own; this module reads the results:
`thread_cpu` from /proc/<pid>/task (no profiler: the server's own figures), `print_profile` from the file the
server writes at exit.
"""

from __future__ import annotations

import io
import marshal
import os
import pstats
import re
from collections.abc import Callable
from pathlib import Path

PROFILE_HOOK = Path(__file__).parent / "thread_profile"

# (a part of the thread's name, the role it is counted under); the first that matches wins
THREAD_GROUPS = (
    ("threadline-smtp-db", "smtp handlers"), ("threadline-worker", "worker"),
    ("threadline-scheduler", "scheduler"), ("(_run)", "smtp session"),
    ("threadline-web", "web requests"), ("ThreadPoolExecutor", "other executors"),
)


def server_env(data_dir: Path, profile: bool) -> dict[str, str]:
    """The server's environment for `thread_cpu` (and, with `profile`, `print_profile`) to read it."""
    env = {"THREADLINE_BENCH_THREADS": str(data_dir / "threads"), "PYTHONPATH": os.pathsep.join(
        [str(PROFILE_HOOK), *filter(None, [os.environ.get("PYTHONPATH")])])}
    if profile:
        env["THREADLINE_BENCH_PROFILE"] = str(data_dir / "profile")
    return env


def thread_cpu(pid: int, data_dir: Path) -> dict[str, float]:
    """CPU seconds so far of the server's threads by role ("main" is uvicorn's event loop and the rest of the
    process's main thread; a thread not named in THREAD_GROUPS is one of "other threads")."""
    names = {}
    listing = data_dir / f"threads.{pid}"
    for line in listing.read_text().splitlines() if listing.exists() else []:
        native, _sep, name = line.partition(" ")
        names[native] = next((label for prefix, label in THREAD_GROUPS if prefix in name), "other threads")
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        label = "main" if task.name == str(pid) else names.get(task.name, "other threads")
        out[label] = out.get(label, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def per_item_ms(before: dict[str, float], after: dict[str, float], items: int) -> dict[str, float]:
    """Each role's CPU between two `thread_cpu` readings, in ms per item."""
    return {name: (after[name] - before.get(name, 0.0)) * 1000 / max(1, items) for name in after}


def profile_path(data_dir: Path, pid: int) -> Path:
    return data_dir / f"profile.{pid}"


def print_profile(data: bytes, limit: int, say: Callable[[str], None]) -> None:
    """Each thread's profile (threads of one name, digits aside, together): its CPU, then its costliest
    functions by own time and by cumulative time."""
    groups: dict[str, list[dict]] = {}
    for name, stats in marshal.loads(data).items():
        groups.setdefault(re.sub(r"\d+", "N", name), []).extend(stats)
    for name, stats in sorted(groups.items()):
        merged = pstats.Stats()
        for one in stats:
            if one:
                part = pstats.Stats()
                part.stats, part.total_calls = one, sum(v[1] for v in one.values())  # type: ignore[attr-defined]
                merged.add(part)
        total = sum(v[2] for v in merged.stats.values())  # type: ignore[attr-defined]
        if total < 0.05:
            continue
        out = io.StringIO()
        merged.stream = out  # type: ignore[attr-defined]
        merged.sort_stats("tottime").print_stats(limit)
        merged.sort_stats("cumulative").print_stats(limit)
        say(f"── thread {name} ({len(stats)}): {total:.2f} s of CPU profiled")
        say("\n".join(line for line in out.getvalue().splitlines() if line.strip()))
