"""The detector's maths on small hand-made series, and the crisis simulation (issue 15): a deterministic
replayed stream of 2,000 mentions with a spike is detected within minutes; a calm stream of 2,000 raises
no alarm."""

from __future__ import annotations

import pytest

from threadline.crisis.detector import Params, SeriesState, is_negative, observe, series_keys, volume_z
from threadline.crisis.simulation import START, calm_scenario, spike_scenario

P = Params()
BUCKET = P.bucket_seconds


def feed(state: SeriesState, bucket: int, count: int, negative: int = 0) -> list:
    signals = []
    for n in range(count):
        signals += observe(state, START + bucket * BUCKET + n, n < negative, P)
    return signals


def steady(counts: list[int], negative_share: float = 0.2) -> SeriesState:
    state = SeriesState()
    for bucket, count in enumerate(counts):
        assert feed(state, bucket, count, round(count * negative_share)) == []
    return state


def test_a_volume_spike_opens_once_and_closes_when_calm():
    state = steady([3, 4, 2, 3, 5, 3, 4, 3, 2, 4, 3, 3])
    assert state.seen == 11 and 2.5 < state.mean < 4
    signals = feed(state, 12, 25)
    assert [(s.action, s.kind) for s in signals] == [("open", "volume")]
    opened = signals[0]
    assert P.min_volume <= opened.count < 25 and opened.z >= P.z_threshold  # fires while the bucket fills
    assert feed(state, 13, 30) == []  # still the same alarm
    closing = []
    for bucket in range(14, 14 + P.calm_buckets + 1):
        closing += feed(state, bucket, 3)
    assert [(s.action, s.kind) for s in closing] == [("close", "volume")]
    assert 2.5 < state.mean < 4  # the spike's buckets did not enter the baseline


def test_no_alarm_below_the_minimum_volume_or_during_warm_up():
    quiet = steady([0, 1, 0, 0, 1, 0, 0, 0, 1, 0])
    assert feed(quiet, 10, P.min_volume - 1) == []  # 9 where ~0.3 are usual: too few to call a crisis
    young = SeriesState()
    assert feed(young, 0, 2) == [] and feed(young, 1, 40) == []  # nothing to compare with yet


def test_a_rise_in_the_negative_share_alone_opens_a_negative_alarm():
    state = steady([12, 14, 11, 13, 12, 15, 12, 13, 14, 12], negative_share=0.1)
    signals = feed(state, 10, 14, negative=12)
    assert [(s.action, s.kind) for s in signals] == [("open", "negative")]
    assert signals[0].share > 0.7 and signals[0].baseline_share < 0.2


def test_the_poisson_floor_and_anscombe_keep_small_counts_honest():
    flat = SeriesState(bucket=0, mean=2.3, var=0.0, seen=50)
    assert volume_z(flat, 10, P) < P.z_threshold  # not a z of (10 − 2.3) / 0
    assert volume_z(flat, 16, P) >= P.z_threshold


def test_series_and_negativity():
    assert series_keys("facebook", ["Delivery", "delivery", "order"]) == [
        "all", "channel:facebook", "topic:delivery", "topic:order"]
    assert is_negative("complaint", 0.1) and is_negative("question", -0.5) and not is_negative("praise", 0.8)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_crisis_simulation_a_spike_in_2000_mentions_is_detected_within_minutes(seed):
    report = spike_scenario(seed)
    assert report.mentions == 2000
    assert report.delay_minutes is not None and 0 <= report.delay_minutes <= 10, report.describe()
    assert report.false_alarms == 0, report.alarms
    moderate = spike_scenario(seed, spike_mentions=120)  # 20 a quarter-hour instead of ~50
    assert moderate.delay_minutes is not None and moderate.delay_minutes <= 30, moderate.describe()


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_crisis_simulation_a_calm_stream_of_2000_mentions_raises_no_alarm(seed):
    report = calm_scenario(seed)
    assert report.mentions == 2000 and report.alarms == [], report.alarms
