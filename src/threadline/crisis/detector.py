"""The crisis detector: volume and negative-share anomalies per series (a topic, a channel kind, or every
mention) against a rolling baseline. Pure: the same code runs on the database state (`actions.py`) and in
the replayed simulations (`simulation.py`, `bench/crisis.py`). The maths is in docs/social.md, "Crisis
detection".

Time is cut into buckets of `bucket_minutes`. Per series the state keeps the count and negative count of the
current bucket and, over the closed buckets, an exponentially weighted mean μ and variance σ² of the count
(weight α) and a weighted mean p of the negative share. Each mention is added to its bucket and checked at
once (no waiting for the bucket to close):

    volume:   x ≥ min_volume  and  z = (x − μ) / max(σ, √max(μ, 1)) ≥ z_threshold
    negative: x ≥ min_volume  and  share = n / x ≥ p + min_lift  and
              z = (share − p) / √(max(p(1 − p), p_floor) / x) ≥ z_threshold

(√μ is the Poisson floor: a series that has been nearly constant still has at least the noise of counting.)
No alarm before `warmup_buckets` closed buckets. A closed bucket updates the baseline only when it was not
anomalous, so a crisis does not teach the baseline that it is normal; a bucket with no mention is a zero.
An open alarm closes after `calm_buckets` closed buckets in a row below half the threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

HOURS = 24
MAX_GAP = 10_000  # closed buckets folded one by one at most; beyond, the baseline has decayed to nothing anyway


@dataclass(frozen=True)
class Params:
    bucket_minutes: int = 15
    alpha: float = 0.1  # weight of the newest closed bucket (half-life ≈ 6.6 buckets)
    z_threshold: float = 4.0
    min_volume: int = 10  # mentions in the bucket before any alarm
    min_lift: float = 0.25  # the negative share must exceed the baseline share by this much
    p_floor: float = 0.05  # lower bound of p(1 − p) in the share's standard error
    warmup_buckets: int = 8
    calm_buckets: int = 4
    daily_alpha: float = 0.3  # weight of the newest day in the hour-of-day profile

    @property
    def bucket_seconds(self) -> int:
        return self.bucket_minutes * 60


@dataclass
class SeriesState:
    bucket: int = -1  # index of the current bucket (seconds since the epoch // bucket_seconds); -1: none yet
    count: int = 0
    negative: int = 0
    mean: float = 0.0
    var: float = 0.0
    share: float = 0.0  # baseline negative share
    seen: int = 0  # closed buckets folded into the baseline
    calm: int = 0  # closed buckets in a row below half the threshold while alarmed
    alarmed: str = ""  # "", "volume" or "negative": an alarm is open on this series
    fired: bool = False  # the current bucket already raised (or fed) an alarm
    daily: list[float] = field(default_factory=list)  # mean count per hour of the day (24, UTC), once learnt


@dataclass(frozen=True)
class Signal:
    action: str  # "open" or "close"
    kind: str  # "volume" or "negative"
    bucket: int
    count: int
    negative: int
    mean: float
    std: float
    z: float
    share: float = 0.0
    baseline_share: float = 0.0
    why: dict = field(default_factory=dict)


def expected(state: SeriesState, params: Params) -> float:
    """The baseline count of the current bucket: the recent mean, or the usual count at this hour of the day
    when that is higher (a morning rise is not a crisis)."""
    if len(state.daily) != HOURS:
        return state.mean
    return max(state.mean, state.daily[_hour(state.bucket, params)])


def _hour(bucket: int, params: Params) -> int:
    return (bucket * params.bucket_seconds // 3_600) % HOURS


def volume_z(state: SeriesState, count: int, params: Params) -> float:
    """The smaller of the z-score against the baseline's own spread (never below the Poisson √μ) and the
    z-score of Anscombe's variance-stabilised counts, 2(√(x + ⅜) − √(μ + ⅜)), which keeps the tail of small
    Poisson counts honest (10 mentions where 2.3 are usual is rare, but not a one-in-a-million event)."""
    mean = expected(state, params)
    spread = max(math.sqrt(max(state.var, 0.0)), math.sqrt(max(mean, 1.0)))
    return min((count - mean) / spread, 2 * (math.sqrt(count + 0.375) - math.sqrt(mean + 0.375)))


def share_z(state: SeriesState, count: int, negative: int, params: Params) -> float:
    if count <= 0:
        return 0.0
    p = state.share
    return (negative / count - p) / math.sqrt(max(p * (1 - p), params.p_floor) / count)


def _anomaly(state: SeriesState, params: Params, *, count: int, negative: int, threshold: float) -> str:
    if state.seen < params.warmup_buckets or count < params.min_volume:
        return ""
    if volume_z(state, count, params) >= threshold:
        return "volume"
    if negative / count >= state.share + params.min_lift and share_z(state, count, negative, params) >= threshold:
        return "negative"
    return ""


def _signal(action: str, kind: str, state: SeriesState, params: Params, bucket: int) -> Signal:
    std = math.sqrt(max(state.var, 0.0))
    z = volume_z(state, state.count, params) if kind == "volume" else share_z(state, state.count, state.negative, params)
    share = state.negative / state.count if state.count else 0.0
    return Signal(action, kind, bucket, state.count, state.negative, round(expected(state, params), 3), round(std, 3),
                  round(z, 2), round(share, 3), round(state.share, 3))


def _close_bucket(state: SeriesState, params: Params) -> Signal | None:
    """Fold the current bucket into the baseline (unless anomalous); may close an open alarm."""
    x, n = state.count, state.negative
    anomalous = bool(_anomaly(state, params, count=x, negative=n, threshold=params.z_threshold))
    closed: Signal | None = None
    if state.alarmed:
        quiet = not _anomaly(state, params, count=x, negative=n, threshold=params.z_threshold / 2)
        state.calm = state.calm + 1 if quiet else 0
        if state.calm >= params.calm_buckets:
            closed = _signal("close", state.alarmed, state, params, state.bucket)
            state.alarmed, state.calm = "", 0
    if not anomalous:
        a = params.alpha if state.seen else 1.0  # the first bucket is the baseline
        diff = x - state.mean
        state.mean += a * diff
        state.var = (1 - a) * (state.var + a * diff * diff) if state.seen else 0.0
        if x:
            weight = min(1.0, a * x / max(state.mean, 1.0)) if state.seen else 1.0
            state.share += weight * (n / x - state.share)
        _learn_hour(state, x, params)
        state.seen += 1
    state.count = state.negative = 0
    state.fired = False
    return closed


def _learn_hour(state: SeriesState, count: int, params: Params) -> None:
    """The hour-of-day profile: an EWMA per hour (weight `daily_alpha`) of the buckets' counts, started
    from the first day's counts once a whole day has been seen."""
    per_hour = 3_600 / params.bucket_seconds
    if len(state.daily) != HOURS:
        if state.seen + 1 >= HOURS * per_hour:
            state.daily = [state.mean] * HOURS
        return
    hour = _hour(state.bucket, params)
    state.daily[hour] += params.daily_alpha / max(per_hour, 1) * (count - state.daily[hour])


def advance(state: SeriesState, bucket: int, params: Params) -> list[Signal]:
    """Close every bucket before `bucket` (empty ones count as zeros)."""
    signals: list[Signal] = []
    if state.bucket < 0:
        state.bucket = bucket
        return signals
    steps = 0
    while state.bucket < bucket and steps < MAX_GAP:
        closed = _close_bucket(state, params)
        if closed:
            signals.append(closed)
        state.bucket += 1
        steps += 1
        if not state.alarmed and state.mean < 1e-6 and state.count == 0:
            break  # nothing left to decay: jump
    state.bucket = max(state.bucket, bucket)
    return signals


def observe(state: SeriesState, at_seconds: float, negative: bool, params: Params) -> list[Signal]:
    """Count one mention posted at `at_seconds` (epoch); the signals it causes. A mention older than the
    current bucket counts in the current one (late arrivals do not rewrite closed buckets)."""
    bucket = int(at_seconds // params.bucket_seconds)
    signals = advance(state, bucket, params) if bucket > state.bucket else []
    state.count += 1
    state.negative += int(negative)
    if not state.alarmed and not state.fired:
        kind = _anomaly(state, params, count=state.count, negative=state.negative, threshold=params.z_threshold)
        if kind:
            state.alarmed, state.fired, state.calm = kind, True, 0
            signals.append(_signal("open", kind, state, params, state.bucket))
    return signals


def is_negative(category: str, sentiment: float | None) -> bool:
    """A mention counts as negative when triage called it a complaint or abuse, or its sentiment is ≤ −0.25."""
    return category in ("complaint", "abuse") or (sentiment is not None and sentiment <= -0.25)


def series_keys(channel_kind: str, topics: list[str] | tuple[str, ...]) -> list[str]:
    """The series a mention counts in: every mention, its channel kind, each of its topics."""
    keys = ["all"]
    if channel_kind:
        keys.append(f"channel:{channel_kind[:40]}")
    keys += [f"topic:{t[:80]}" for t in dict.fromkeys(str(t).strip().lower() for t in topics or []) if t]
    return keys[:12]
