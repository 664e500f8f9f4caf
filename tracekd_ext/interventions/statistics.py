"""Statistics of paired binary outcomes (the same items under two conditions), from counts.

- Accuracy CIs: Wilson score intervals (scipy's ``binomtest(...).proportion_ci(method="wilson")``).
- Difference of two paired proportions: Newcombe's hybrid score interval (Newcombe 1998, method 10, as
  given by Fagerland, Lydersen & Laake 2014), built from the two Wilson intervals and the phi correlation
  of the paired outcomes.
- Exact McNemar test: a two-sided binomial test (p = 1/2) on the discordant pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as sps

from tracekd_ext.stats import CONFIDENCE_LEVEL, wilson_interval


@dataclass(frozen=True, slots=True)
class PairedCounts:
    """Paired outcomes of n items: ``both`` right, right only under the ``reference`` (gold), right only
    under the ``other`` condition, ``neither``."""

    both: int
    reference_only: int
    other_only: int
    neither: int

    @property
    def n(self) -> int:
        return self.both + self.reference_only + self.other_only + self.neither


def count_paired(reference: list[bool], other: list[bool]) -> PairedCounts:
    """Reduce two aligned lists of outcomes to the four paired counts."""
    cells = {(True, True): 0, (True, False): 0, (False, True): 0, (False, False): 0}
    for r, o in zip(reference, other, strict=True):
        cells[bool(r), bool(o)] += 1
    return PairedCounts(cells[True, True], cells[True, False], cells[False, True], cells[False, False])


def mcnemar_exact_p(counts: PairedCounts) -> float:
    """Two-sided exact McNemar p-value: binomial test of the discordant pairs against 1/2 (1.0 without any)."""
    discordant = counts.reference_only + counts.other_only
    if discordant == 0:
        return 1.0
    return float(sps.binomtest(counts.other_only, discordant, 0.5).pvalue)


def _phi(c: PairedCounts) -> float:
    denom = ((c.both + c.reference_only) * (c.other_only + c.neither) * (c.both + c.other_only)
             * (c.reference_only + c.neither))
    return 0.0 if denom == 0 else (c.both * c.neither - c.reference_only * c.other_only) / math.sqrt(denom)


def paired_difference(counts: PairedCounts, level: float = CONFIDENCE_LEVEL) -> tuple[float, float, float]:
    """``P(other right) - P(reference right)`` with Newcombe's hybrid score interval (NaN for n = 0)."""
    n = counts.n
    if n == 0:
        return math.nan, math.nan, math.nan
    p_ref = (counts.both + counts.reference_only) / n
    p_other = (counts.both + counts.other_only) / n
    l_ref, u_ref = wilson_interval(counts.both + counts.reference_only, n, level)
    l_other, u_other = wilson_interval(counts.both + counts.other_only, n, level)
    phi = _phi(counts)
    diff = p_other - p_ref
    low = diff - math.sqrt(max(0.0, (p_other - l_other) ** 2 - 2 * phi * (p_other - l_other) * (u_ref - p_ref)
                               + (u_ref - p_ref) ** 2))
    high = diff + math.sqrt(max(0.0, (u_other - p_other) ** 2 - 2 * phi * (u_other - p_other) * (p_ref - l_ref)
                                + (p_ref - l_ref) ** 2))
    return diff, max(-1.0, low), min(1.0, high)
