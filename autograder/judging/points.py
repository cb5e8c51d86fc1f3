"""Partial credit for a metric: the rule every assignment's CSV judges share."""

import math


def partial_points(score: float, baseline: float, target: float, max_points: float) -> float:
    """Points for a metric between a baseline (0 points) and a target (full points).

    Linear in between, clipped to ``[0, max_points]``, rounded to two decimals. A NaN score
    gets 0.

    >>> partial_points(0.75, baseline=0.5, target=1.0, max_points=4)
    2.0
    >>> partial_points(1.2, baseline=0.5, target=1.0, max_points=4)
    4.0
    """
    if math.isnan(score):
        return 0.0
    fraction = (score - baseline) / (target - baseline)
    return round(max_points * min(1.0, max(0.0, fraction)), 2)
