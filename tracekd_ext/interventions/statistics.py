"""Statistics of paired binary outcomes (the same items under two conditions), from counts.

The paired outcomes are :class:`tracekd_ext.stats.PairCounts` with the reference condition (gold) in the first
position and the other condition in the second: ``tt`` both right, ``tf`` right only under the reference,
``ft`` right only under the other condition, ``ff`` neither.

- Accuracy CIs: Wilson score intervals (:func:`tracekd_ext.stats.wilson_interval`).
- Difference of two paired proportions: Newcombe's hybrid score interval (Newcombe 1998, method 10, as
  given by Fagerland, Lydersen & Laake 2014), built from the two Wilson intervals and the phi correlation
  of the paired outcomes (:func:`tracekd_ext.stats.phi`; where phi is undefined, an empty margin, the
  method takes 0).
- Exact McNemar test: a two-sided binomial test (p = 1/2) on the discordant pairs.
"""

from __future__ import annotations

import math

from scipy import stats as sps

from tracekd_ext.stats import CONFIDENCE_LEVEL, PairCounts, count_pairs, phi, wilson_interval


def count_paired(reference: list[bool], other: list[bool]) -> PairCounts:
    """Reduce two aligned lists of outcomes to the four paired counts."""
    return count_pairs(zip(reference, other, strict=True))


def mcnemar_exact_p(counts: PairCounts) -> float:
    """Two-sided exact McNemar p-value: binomial test of the discordant pairs against 1/2 (1.0 without any)."""
    discordant = counts.tf + counts.ft
    if discordant == 0:
        return 1.0
    return float(sps.binomtest(counts.ft, discordant, 0.5).pvalue)


def paired_difference(counts: PairCounts, level: float = CONFIDENCE_LEVEL) -> tuple[float, float, float]:
    """``P(other right) - P(reference right)`` with Newcombe's hybrid score interval (NaN for n = 0)."""
    n = counts.n
    if n == 0:
        return math.nan, math.nan, math.nan
    p_ref = (counts.tt + counts.tf) / n
    p_other = (counts.tt + counts.ft) / n
    l_ref, u_ref = wilson_interval(counts.tt + counts.tf, n, level)
    l_other, u_other = wilson_interval(counts.tt + counts.ft, n, level)
    correlation = phi(counts)
    correlation = 0.0 if math.isnan(correlation) else correlation  # Newcombe: 0 where phi is undefined
    diff = p_other - p_ref
    low = diff - math.sqrt(max(0.0, (p_other - l_other) ** 2
                               - 2 * correlation * (p_other - l_other) * (u_ref - p_ref) + (u_ref - p_ref) ** 2))
    high = diff + math.sqrt(max(0.0, (u_other - p_other) ** 2
                                - 2 * correlation * (u_other - p_other) * (p_ref - l_ref) + (p_ref - l_ref) ** 2))
    return diff, max(-1.0, low), min(1.0, high)
