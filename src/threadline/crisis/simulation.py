"""Deterministic replayed mention streams for the crisis simulation (the test and `bench/crisis.py`).

A calm stream: mentions arrive as a Poisson process whose rate follows the day (night ≈ ⅓ of the afternoon
peak), spread over topics and channel kinds with a steady negative share (~20%). A spike stream is the same
with, from `spike_at`, one topic ("delivery") flooded with mostly negative mentions for `spike_minutes`.
`replay` runs the detector over a stream and reports the alarms, the first alarm on the spiking series, and
the delay from the spike's start to it."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from threadline.crisis.detector import Params, SeriesState, Signal, is_negative, observe, series_keys

TOPICS = ("order", "billing", "account", "quality", "refund", "outage", "delivery")
TOPIC_WEIGHTS = (0.25, 0.15, 0.15, 0.12, 0.08, 0.05, 0.20)
CHANNELS = ("facebook", "instagram", "social_api")
CHANNEL_WEIGHTS = (0.5, 0.35, 0.15)
START = 1_767_225_600  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class Mention:
    at: float  # epoch seconds
    channel_kind: str
    topics: tuple[str, ...]
    category: str
    sentiment: float
    spike: bool = False


@dataclass(frozen=True)
class Report:
    mentions: int
    alarms: list[tuple[str, Signal]]  # (series key, signal) for every alarm opened
    detected_at: float | None  # epoch seconds of the first alarm on the spiking series
    delay_minutes: float | None  # from the spike's start
    false_alarms: int  # alarms on other series, or before the spike

    def describe(self) -> str:
        delay = "not detected" if self.delay_minutes is None else f"{self.delay_minutes:.1f} min"
        return f"{self.mentions} mentions, detection {delay}, false alarms {self.false_alarms}"


def _rate(at: float, per_day: float) -> float:
    """Mentions per second at `at`: a day curve peaking at 15:00 UTC, night at a third of the peak."""
    hour = (at % 86_400) / 3_600
    shape = 0.5 + 0.5 * math.cos((hour - 15) / 24 * 2 * math.pi)  # 0 at 03:00, 1 at 15:00
    return per_day / 86_400 * (0.5 + 1.0 * shape) / 1.0


def _mention(rng: random.Random, at: float, *, spike: bool = False) -> Mention:
    if spike:
        negative = rng.random() < 0.85
        return Mention(at, rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0], ("delivery", "order")[: 1 + (rng.random() < 0.4)],
                       "complaint" if negative else "question", -0.7 if negative else 0.0, spike=True)
    topics = tuple(dict.fromkeys(rng.choices(TOPICS, TOPIC_WEIGHTS, k=1 + (rng.random() < 0.3))))
    roll = rng.random()
    category, sentiment = (("complaint", -0.6) if roll < 0.2 else ("question", 0.0) if roll < 0.55
                           else ("praise", 0.7) if roll < 0.75 else ("noise", 0.0))
    return Mention(at, rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0], topics if category != "noise" else (), category,
                   sentiment)


def stream(seed: int, *, total: int = 2_000, per_day: float = 300.0, spike_at: float | None = None,
           spike_mentions: int = 0, spike_minutes: float = 90.0) -> list[Mention]:
    """`total` mentions in time order: `total - spike_mentions` calm ones, plus the spike's (spread uniformly
    from `spike_at` over `spike_minutes`)."""
    rng = random.Random(seed)
    calm: list[Mention] = []
    at = float(START)
    peak = _rate(START + 15 * 3_600, per_day)
    while len(calm) < total - spike_mentions:  # thinning: a Poisson process with the day's rate
        at += rng.expovariate(peak)
        if rng.random() * peak <= _rate(at, per_day):
            calm.append(_mention(rng, at))
    spike = [] if spike_at is None else [
        _mention(rng, spike_at + rng.random() * spike_minutes * 60, spike=True) for _ in range(spike_mentions)]
    return sorted(calm + spike, key=lambda m: m.at)


def replay(mentions: list[Mention], params: Params | None = None, *, spike_at: float | None = None,
           spike_key: str = "topic:delivery") -> Report:
    params = params or Params()
    states: dict[str, SeriesState] = {}
    alarms: list[tuple[str, Signal]] = []
    detected: float | None = None
    false_alarms = 0
    for mention in mentions:
        negative = is_negative(mention.category, mention.sentiment)
        for key in series_keys(mention.channel_kind, list(mention.topics)):
            for signal in observe(states.setdefault(key, SeriesState()), mention.at, negative, params):
                if signal.action != "open":
                    continue
                alarms.append((key, signal))
                spiking = spike_at is not None and mention.at >= spike_at
                if spiking and key == spike_key and detected is None:
                    detected = mention.at
                elif not spiking:
                    false_alarms += 1
    delay = None if detected is None or spike_at is None else (detected - spike_at) / 60
    return Report(len(mentions), alarms, detected, delay, false_alarms)


def spike_scenario(seed: int, params: Params | None = None, *, spike_mentions: int = 300) -> Report:
    """2,000 mentions over about six days (300 a day), 300 of them a spike on "delivery" on day 5 at 10:00."""
    spike_at = float(START + 4 * 86_400 + 10 * 3_600)
    mentions = stream(seed, spike_at=spike_at, spike_mentions=spike_mentions)
    return replay(mentions, params, spike_at=spike_at)


def calm_scenario(seed: int, params: Params | None = None) -> Report:
    return replay(stream(seed), params)
