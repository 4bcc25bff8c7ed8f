"""The one percentile definition every metric uses (docs/analytics.md): nearest rank."""

from __future__ import annotations

import math
from collections.abc import Sequence


def nearest_rank(ordered: Sequence[int], percent: int) -> int | None:
    """The value at rank ceil(percent/100 × n) of the ascending `ordered` (1-based); None when empty.
    The median is nearest_rank(values, 50): the lower middle of an even count, never an average."""
    if not ordered:
        return None
    return ordered[max(1, math.ceil(percent * len(ordered) / 100)) - 1]
