"""Statistics of step correctness against answer correctness (SPEC 6), computed from cell counts.

Degenerate tables: phi, chi-square and their p-values are NaN when a row or column of the 2x2 table
is empty (the association is undefined); Fisher's p is then 1.0 (scipy's value: no evidence against
independence); a share with an empty denominator is NaN. Nothing raises on a valid count.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

Z95 = 1.959963984540054
CHI2_CRITICAL_5PCT = 3.841458820694124
BOOTSTRAP_REPLICATES = 10_000


@dataclass(frozen=True, slots=True)
class PairCounts:
    """2x2 counts: step correct (T) or not (F) x answer correct (T) or not (F)."""

    tt: int
    tf: int
    ft: int
    ff: int

    @property
    def n(self) -> int:
        return self.tt + self.tf + self.ft + self.ff

    def table(self) -> list[list[int]]:
        return [[self.tt, self.tf], [self.ft, self.ff]]


def count_pairs(pairs: Iterable[Sequence[object] | None]) -> PairCounts:
    """Reduce (step_ok, answer_ok) pairs to the four counts; pairs that are ``None`` or whose step is
    ``None`` (not evaluated) are skipped."""
    cells = Counter((bool(p[0]), bool(p[1])) for p in pairs if p is not None and p[0] is not None)
    return PairCounts(cells[True, True], cells[True, False], cells[False, True], cells[False, False])


def _phi(tt, tf, ft, ff):
    """Phi coefficient, elementwise over numpy arrays or scalars; NaN where a margin is empty."""
    tt, tf, ft, ff = (np.asarray(x, dtype=float) for x in (tt, tf, ft, ff))
    denom = (tt + tf) * (ft + ff) * (tt + ft) * (tf + ff)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (tt * ff - tf * ft) / np.sqrt(np.where(denom > 0, denom, 1.0)), np.nan)


def phi(counts: PairCounts) -> float:
    return float(_phi(counts.tt, counts.tf, counts.ft, counts.ff))


def phi_interval(counts: PairCounts, *, replicates: int = BOOTSTRAP_REPLICATES, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of phi by resampling the four cell counts (multinomial), vectorised."""
    n = counts.n
    if n == 0 or math.isnan(phi(counts)):
        return math.nan, math.nan
    draws = np.random.default_rng(seed).multinomial(n, np.array(counts.table(), float).ravel() / n, size=replicates)
    values = _phi(draws[:, 0], draws[:, 1], draws[:, 2], draws[:, 3])
    values = values[~np.isnan(values)]
    if values.size == 0:
        return math.nan, math.nan
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def chi_square(counts: PairCounts, *, yates: bool = False) -> tuple[float, float]:
    """Pearson chi-square (df 1) and its p-value; Yates' continuity correction on request."""
    if math.isnan(phi(counts)):
        return math.nan, math.nan
    if not yates:
        value = counts.n * phi(counts) ** 2
        return value, float(sps.chi2.sf(value, 1))
    value, p, _, _ = sps.chi2_contingency(counts.table(), correction=True)
    return float(value), float(p)


def fisher_p(counts: PairCounts) -> float:
    """Two-sided Fisher exact p-value (1.0 for a table with an empty row or column)."""
    if counts.n == 0:
        return math.nan
    return float(sps.fisher_exact(counts.table()).pvalue)


def share(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def wilson_interval(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: Sequence[float], *, binary: bool | None = None) -> tuple[float, float, float]:
    """Mean with a 95% CI: Wilson for 0/1 values, normal approximation otherwise. NaN when empty.
    ``binary`` says which (tested on the values when not given)."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = sum(values) / n
    if binary is None:
        binary = all(v in (0, 1) for v in values)
    if binary:
        return (mean, *wilson_interval(mean * n, n))
    if n == 1:
        return mean, math.nan, math.nan
    half = Z95 * float(np.std(np.asarray(values, dtype=float), ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def pair_statistics(counts: PairCounts, *, replicates: int = BOOTSTRAP_REPLICATES) -> dict[str, object]:
    """Everything SPEC 6 reports for one (step, answer) pair."""
    chi2, chi2_p = chi_square(counts)
    yates, yates_p = chi_square(counts, yates=True)
    return {
        "tt": counts.tt, "tf": counts.tf, "ft": counts.ft, "ff": counts.ff, "n": counts.n,
        "tt_share": share(counts.tt, counts.n),
        "p_answer_given_step": share(counts.tt, counts.tt + counts.tf),
        "p_answer_given_not_step": share(counts.ft, counts.ft + counts.ff),
        "phi": phi(counts),
        "phi_ci": list(phi_interval(counts, replicates=replicates)),
        "chi2": chi2, "chi2_p": chi2_p,
        "chi2_yates": yates, "chi2_yates_p": yates_p,
        "fisher_p": fisher_p(counts),
        "independence_rejected_5pct": (not math.isnan(chi2)) and chi2 >= CHI2_CRITICAL_5PCT,
    }
