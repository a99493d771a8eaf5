"""Confidence intervals for proportions and for the difference of two proportions.

Both are standard, closed-form and well behaved at 0 and 1 (unlike the Wald
interval, which collapses to a point there):

* one proportion: the **Wilson score interval** (Wilson 1927) —
  with ``p = x / n`` and ``z`` the normal quantile,
  ``centre = (p + z²/2n) / (1 + z²/n)`` and
  ``half = z / (1 + z²/n) · √(p(1 − p)/n + z²/4n²)``;
* a difference ``p₁ − p₂`` of two independent proportions: **Newcombe's hybrid
  score interval** (Newcombe 1998, method 10), built from the two Wilson
  intervals ``(l₁, u₁)`` and ``(l₂, u₂)``:
  ``δ = √((p₁ − l₁)² + (u₂ − p₂)²)``, ``ε = √((u₁ − p₁)² + (p₂ − l₂)²)``,
  interval ``(p₁ − p₂ − δ, p₁ − p₂ + ε)``.

``docs/reports.md`` writes the same formulas; ``tests/test_report_stats.py``
checks them against Newcombe's published examples.
"""

from __future__ import annotations

import math
from typing import Final

__all__ = ["Z95", "newcombe_interval", "wilson_interval"]

Z95: Final = 1.959963984540054
"""The 97.5th percentile of the standard normal distribution (two-sided 95 %)."""


def wilson_interval(
    successes: int, trials: int, z: float = Z95
) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes / trials``; ``None`` without trials.

    Args:
        successes: how many trials succeeded (0 to *trials*).
        trials: how many trials there were.
        z: the normal quantile (1.96 for 95 %).

    Returns:
        ``(low, high)``, both within ``[0, 1]``, or ``None`` when *trials* is 0.

    Raises:
        ValueError: *successes* is negative or more than *trials*.
    """
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and {trials}, got {successes}")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = (
        z / denominator * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    )
    # At 0 and at 1 the bound is exactly 0 (1); floating point leaves a crumb.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def newcombe_interval(
    successes_1: int, trials_1: int, successes_2: int, trials_2: int, z: float = Z95
) -> tuple[float, float, float] | None:
    """``p₁ − p₂`` and Newcombe's hybrid score interval for it.

    Args:
        successes_1, trials_1: the first group (an offer arm).
        successes_2, trials_2: the second group (the holdout).
        z: the normal quantile (1.96 for 95 %).

    Returns:
        ``(difference, low, high)``, or ``None`` when a group has no trials.

    Raises:
        ValueError: a count of successes is outside ``[0, trials]``.
    """
    first = wilson_interval(successes_1, trials_1, z)
    second = wilson_interval(successes_2, trials_2, z)
    if first is None or second is None:
        return None
    p1, p2 = successes_1 / trials_1, successes_2 / trials_2
    (l1, u1), (l2, u2) = first, second
    delta = math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    epsilon = math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    difference = p1 - p2
    return difference, difference - delta, difference + epsilon
