"""The crisis simulation: detection time and false alarms of the crisis detector on replayed streams.

    .venv/bin/python bench/crisis.py                 # seeds 0-4, and the totals over 100 seeds
    .venv/bin/python bench/crisis.py --seeds 10 --totals 200

Each seed builds deterministic streams of 2,000 public mentions over about six and a half days (300 a day,
a day curve from a third of the peak at night, 7 topics, 3 channel kinds, ~20% negative):
- spike:    300 of the 2,000 are a flood on "delivery" (85% negative) within 90 minutes on day 5 at 10:00;
- moderate: the same with 120 (20 a quarter-hour instead of ~50);
- calm:     2,000 calm mentions.
The detector (`threadline.crisis.detector`, default parameters: 15-minute buckets, EWMA α 0.1, z ≥ 4, at
least 10 mentions, 8 buckets of warm-up) runs over each, as the subscriber runs it. Detection time is from the
spike's first minute to the first alarm on topic "delivery"; a false alarm is any alarm before the spike
(calm: any alarm at all). Pure computation: no database, no server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from threadline.crisis.detector import Params  # noqa: E402
from threadline.crisis.simulation import calm_scenario, spike_scenario  # noqa: E402


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def delay(value: float | None) -> str:
    return "missed" if value is None else f"{value:5.1f} min"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds shown one by one")
    parser.add_argument("--totals", type=int, default=100, help="seeds summed up")
    args = parser.parse_args()
    params = Params()
    say(f"parameters: {params}")
    say(f"{'seed':>4}  {'spike detection':>15}  {'moderate':>10}  false alarms (spike / moderate / calm)")
    for seed in range(args.seeds):
        spike, moderate, calm = spike_scenario(seed), spike_scenario(seed, spike_mentions=120), calm_scenario(seed)
        say(f"{seed:>4}  {delay(spike.delay_minutes):>15}  {delay(moderate.delay_minutes):>10}  "
            f"{spike.false_alarms} / {moderate.false_alarms} / {len(calm.alarms)}")
    started = time.perf_counter()
    delays: dict[str, list[float]] = {"spike": [], "moderate": []}
    missed = {"spike": 0, "moderate": 0}
    false_alarms = {"spike": 0, "moderate": 0, "calm": 0}
    for seed in range(args.totals):
        for name, report in (("spike", spike_scenario(seed)), ("moderate", spike_scenario(seed, spike_mentions=120))):
            false_alarms[name] += report.false_alarms
            if report.delay_minutes is None:
                missed[name] += 1
            else:
                delays[name].append(report.delay_minutes)
        false_alarms["calm"] += len(calm_scenario(seed).alarms)
    for name in ("spike", "moderate"):
        values = sorted(delays[name])
        say(f"{name} over {args.totals} seeds: detected {len(values)}, missed {missed[name]}, delay median "
            f"{statistics.median(values):.1f} min, p90 {values[int(len(values) * 0.9) - 1]:.1f} min, "
            f"max {values[-1]:.1f} min; false alarms before the spike {false_alarms[name]}")
    say(f"calm over {args.totals} seeds ({args.totals * 2000:,} mentions): {false_alarms['calm']} false alarms")
    say(f"({time.perf_counter() - started:.1f} s for {args.totals * 3 * 2000:,} mentions replayed)")


if __name__ == "__main__":
    main()
