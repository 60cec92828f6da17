"""Lift against the control group, with confidence intervals (pure arithmetic).

Two measures, both over every member assigned to each group (not only those
who opened or clicked):

* the share who ordered in the attribution window: the difference of two
  proportions with the Agresti-Caffo interval (one success and one failure
  added to each group, then the Wald interval), which keeps its coverage
  with small groups and rates near zero;
* revenue per member (zeros included): the difference of two means with
  Welch's interval (unequal variances, Welch-Satterthwaite degrees of
  freedom); incremental revenue is that difference times the target group.

``docs/campaigns.md`` explains the method to merchants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A difference (target minus control), its interval, and the relative change."""

    difference: float | None
    low: float | None
    high: float | None
    relative: float | None
    #: Whether the whole interval is above zero (or below): the lift is not chance.
    significant: bool


NONE = Interval(None, None, None, None, False)


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile by the Cornish-Fisher expansion (good to 1e-3 for df >= 3)."""
    z = NormalDist().inv_cdf(p)
    if df == math.inf or df > 1e6:
        return z
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def proportion_lift(
    hits_t: int, n_t: int, hits_c: int, n_c: int, confidence: float = CONFIDENCE
) -> Interval:
    """Rate in the target group minus the rate in the control group (Agresti-Caffo)."""
    if n_t == 0 or n_c == 0:
        return NONE
    p_t, p_c = hits_t / n_t, hits_c / n_c
    a_t, a_c = (hits_t + 1) / (n_t + 2), (hits_c + 1) / (n_c + 2)
    centre = a_t - a_c
    half = _z(confidence) * math.sqrt(a_t * (1 - a_t) / (n_t + 2) + a_c * (1 - a_c) / (n_c + 2))
    low, high = centre - half, centre + half
    return Interval(
        difference=p_t - p_c,
        low=low,
        high=high,
        relative=(p_t - p_c) / p_c if p_c else None,
        significant=low > 0 or high < 0,
    )


def mean_lift(
    n_t: int,
    sum_t: float,
    sumsq_t: float,
    n_c: int,
    sum_c: float,
    sumsq_c: float,
    confidence: float = CONFIDENCE,
) -> Interval:
    """Mean in the target group minus the mean in the control group (Welch)."""
    if n_t < 2 or n_c < 2:
        return NONE
    mean_t, mean_c = sum_t / n_t, sum_c / n_c
    var_t = max((sumsq_t - n_t * mean_t**2) / (n_t - 1), 0.0)
    var_c = max((sumsq_c - n_c * mean_c**2) / (n_c - 1), 0.0)
    se_t, se_c = var_t / n_t, var_c / n_c
    error = math.sqrt(se_t + se_c)
    difference = mean_t - mean_c
    if error == 0:
        return Interval(difference, difference, difference, _relative(difference, mean_c), False)
    df = (se_t + se_c) ** 2 / (
        (se_t**2 / (n_t - 1) if se_t else 0) + (se_c**2 / (n_c - 1) if se_c else 0)
    )
    half = t_quantile(0.5 + confidence / 2, df) * error
    low, high = difference - half, difference + half
    return Interval(
        difference, low, high, _relative(difference, mean_c), significant=low > 0 or high < 0
    )


def _relative(difference: float, base: float) -> float | None:
    return difference / base if base else None
