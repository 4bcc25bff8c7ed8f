"""Issue 15's acceptance figure: a campaign to 10,000 recipients (SMS through Twilio's Messages API on loopback,
some refused with Twilio's 21610, some opted out, some without an address) completes and reports delivered,
failed and skipped with reasons. Runs the suite's scale test at 10,000 (the suite itself runs it at 1,000) and
prints its line: recipients, seconds, jobs, recipients per second and the report.

    .venv/bin/python bench/outreach.py [--recipients 10000] [--latency-ms 50]

With `--latency-ms` the fake Twilio takes that long to answer each request, as a real provider does: the
batch's requests then overlap (`channels.outbound`, SEND_THREADS per process).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=0, help="the fake Twilio's answer time per request")
    args = parser.parse_args()
    env = {**os.environ, "THREADLINE_OUTREACH_SCALE": str(args.recipients), "PYTHONPATH": str(ROOT / "src"),
           "THREADLINE_OUTREACH_LATENCY_MS": str(args.latency_ms)}
    print(f"loadavg before: {os.getloadavg()}", flush=True)  # noqa: T201
    result = subprocess.run(  # noqa: S603 - our own test, by path
        [sys.executable, "-m", "pytest", "-q", "-s", "-n", "0", "-p", "no:cacheprovider",
         "src/threadline/outreach/tests/test_outreach_scale.py"], cwd=ROOT, env=env, check=False)
    print(f"loadavg after: {os.getloadavg()}", flush=True)  # noqa: T201
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
