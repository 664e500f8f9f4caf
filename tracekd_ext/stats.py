"""Statistics of 2x2 tables of paired binary outcomes (step correctness against answer correctness; the same
item under two intervention conditions), computed from cell counts (:class:`PairCounts`, the one 2x2 type).

Degenerate tables: phi, chi-square and their p-values are NaN when a row or column of the 2x2 table
is empty (the association is undefined; written as null in JSON); Fisher's p is then 1.0 (scipy's value: no
evidence against independence); a share with an empty denominator is NaN. Nothing raises on a valid count.
Every interval is drawn at ``CONFIDENCE_LEVEL``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps
from scipy.special import gammaln
from scipy.stats.contingency import expected_freq

CHI2_CRITICAL_5PCT = 3.841458820694124
BOOTSTRAP_REPLICATES = 10_000
CONFIDENCE_LEVEL = 0.95  # of every interval tracekd reports
CI_LABEL = f"{CONFIDENCE_LEVEL:.0%}"  # the level as the tables and figures name it
MAX_BOOTSTRAP_LEVELS = 2_000
MIN_EXPECTED_COUNT = 5  # below it, large-sample intervals and chi-square are unreliable (Cochran)


@dataclass(frozen=True, slots=True)
class PairCounts:
    """2x2 counts of paired outcomes: first correct (T) or not (F) x second correct (T) or not (F) (step x answer,
    or reference condition x other condition)."""

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


def phi_of_cells(tt, tf, ft, ff):
    """Phi coefficient, elementwise over numpy arrays or scalars; NaN where a margin is empty."""
    tt, tf, ft, ff = (np.asarray(x, dtype=float) for x in (tt, tf, ft, ff))
    denom = (tt + tf) * (ft + ff) * (tt + ft) * (tf + ff)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (tt * ff - tf * ft) / np.sqrt(np.where(denom > 0, denom, 1.0)), np.nan)


def phi(counts: PairCounts) -> float:
    return float(phi_of_cells(counts.tt, counts.tf, counts.ft, counts.ff))


def _log_binom(n, k):
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def conditional_phi_bounds(tt, row1, col1, n, level: float = CONFIDENCE_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """The exact conditional (Fisher) interval of the odds ratio, shown on the phi scale; vectorised over
    tables given by ``tt`` and their margins (row 1 ``tt + tf``, column 1 ``tt + ft``, total ``n``).

    Given the margins, TT follows Fisher's noncentral hypergeometric law with odds ratio psi. The bounds
    of psi are the ones ``scipy.stats.contingency.odds_ratio(kind="conditional")`` reports (each tail
    ``(1 - level) / 2``: the inverted one-sided exact tests), found here by bisection on log psi for
    every table at once (checked against scipy in tests/test_stats.py); each bound is mapped to phi at the
    expected TT under it. psi = 1 maps to phi = 0, so the interval excludes 0 exactly when the exact
    conditional test rejects independence. The law is evaluated within 40 null standard deviations of the
    observed TT: at either bound the mass beyond is below double precision, and elsewhere the truncated
    law still lies on the same side of the tail level, so the bisection takes the same steps.
    """
    tt, row1, col1, n = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (tt, row1, col1, n))
    low_x, high_x = np.maximum(0, row1 + col1 - n), np.minimum(row1, col1)
    with np.errstate(invalid="ignore", divide="ignore"):
        null_sd = np.sqrt(np.nan_to_num(row1 * (n - row1) * col1 * (n - col1) / (n * n * (n - 1))))
    reach = np.ceil(40 * null_sd) + 5
    first, last = np.maximum(low_x, tt - reach), np.minimum(high_x, tt + reach)
    support = first[:, None] + np.arange(int(np.max(last - first, initial=0)) + 1)[None, :]
    valid = support <= last[:, None]
    x = np.where(valid, support, first[:, None])
    log_base = np.where(valid, _log_binom(col1[:, None], x) + _log_binom((n - col1)[:, None], row1[:, None] - x),
                        -np.inf)
    tail = (1 - level) / 2

    def law(log_psi):
        logits = log_base + log_psi[:, None] * x
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        return weights / weights.sum(axis=1, keepdims=True)

    def solve(upper_tail: bool) -> np.ndarray:
        # P(TT >= tt) rises with psi and P(TT <= tt) falls: bisection on log psi within +-30 (odds ratios
        # beyond e^30 give the extreme table's phi to display precision), to 60 / 2^32 = 1.4e-8.
        lo, hi = np.full(tt.shape, -30.0), np.full(tt.shape, 30.0)
        side = (x >= tt[:, None]) if upper_tail else (x <= tt[:, None])
        for _ in range(32):
            mid = (lo + hi) / 2
            mass = (law(mid) * side).sum(axis=1)
            above = mass > tail if upper_tail else mass < tail
            hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
        return (lo + hi) / 2

    def expected(log_psi):
        return (law(log_psi) * x).sum(axis=1)

    low_tt = np.where(tt <= low_x, low_x, expected(solve(True)))
    high_tt = np.where(tt >= high_x, high_x, expected(solve(False)))
    # phi of a table with these margins, from TT alone: (TT * N - row1 * col1) / sqrt(product of margins)
    denom = np.sqrt(row1 * (n - row1) * col1 * (n - col1))
    safe = np.where(denom > 0, denom, 1.0)
    return tuple(np.where(denom > 0, (t * n - row1 * col1) / safe, np.nan) for t in (low_tt, high_tt))


def phi_interval(counts: PairCounts, level: float = CONFIDENCE_LEVEL) -> tuple[float, float]:
    """Interval of phi at ``level`` from the exact conditional test (:func:`conditional_phi_bounds`): it never
    excludes 0 where the exact test finds no association. NaN when phi is undefined."""
    if counts.n == 0 or math.isnan(phi(counts)):
        return math.nan, math.nan
    low, high = conditional_phi_bounds(counts.tt, counts.tt + counts.tf, counts.tt + counts.ft, counts.n, level)
    return float(low[0]), float(high[0])


def smallest_expected_count(counts: PairCounts) -> float:
    """The smallest expected cell count under independence (NaN for a table with an empty margin)."""
    if math.isnan(phi(counts)):
        return math.nan
    return float(expected_freq(counts.table()).min())


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


def wilson_interval(successes: int, n: int, level: float = CONFIDENCE_LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion, inside [0, 1]: exactly 0 with no successes and exactly 1 with
    no failures. The closed form, equal to ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``
    (tests/test_stats.py), which would also compute the test's p-value: milliseconds per call at n 20,000."""
    if n == 0:
        return math.nan, math.nan
    z = float(sps.norm.ppf(1 - (1 - level) / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else min(max(centre - half, 0.0), 1.0)
    high = 1.0 if successes == n else min(max(centre + half, 0.0), 1.0)
    return low, high


def mean_interval(values: Sequence[float], *, binary: bool | None = None,
                  replicates: int = BOOTSTRAP_REPLICATES, seed: int = 0) -> tuple[float, float, float]:
    """Mean with a ``CONFIDENCE_LEVEL`` CI inside the values' range: Wilson for 0/1 values, else the percentile
    bootstrap, which stays inside [min, max] (so inside [0, 1] for F1 values). NaN when empty; the bootstrap needs
    two values. ``binary`` says which (tested on the values when not given).

    The bootstrap resamples the counts of the distinct values (multinomial), which is the same
    distribution as resampling the items and costs replicates x distinct values, not replicates x items
    (per-item F1 values take few distinct values). Beyond ``MAX_BOOTSTRAP_LEVELS`` distinct values (a
    large sample) the normal interval, clipped to [min, max], is used instead.
    """
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = sum(values) / n
    if binary is None:
        binary = all(v in (0, 1) for v in values)
    if binary:
        return (mean, *wilson_interval(round(mean * n), n))
    if n == 1:
        return mean, math.nan, math.nan
    levels, counts = np.unique(np.asarray(values, dtype=float), return_counts=True)
    if levels.size > MAX_BOOTSTRAP_LEVELS:
        z = float(sps.norm.ppf(1 - (1 - CONFIDENCE_LEVEL) / 2))
        half = z * float(np.std(levels.repeat(counts), ddof=1)) / math.sqrt(n)
        return mean, max(mean - half, float(levels[0])), min(mean + half, float(levels[-1]))
    draws = np.random.default_rng(seed).multinomial(n, counts / n, size=replicates)
    tail = 100 * (1 - CONFIDENCE_LEVEL) / 2
    low, high = np.percentile(draws @ levels / n, [tail, 100 - tail])
    return mean, max(float(low), float(levels[0])), min(float(high), float(levels[-1]))


def pair_statistics(counts: PairCounts) -> dict[str, object]:
    """Everything reported for one (step, answer) pair: cells, phi with its interval, chi-square (plain and
    Yates) and Fisher's exact test. ``phi_ci_reliable`` is false when an
    expected cell count is below 5 (or phi is undefined): the interval is then shown but flagged."""
    chi2, chi2_p = chi_square(counts)
    yates, yates_p = chi_square(counts, yates=True)
    return {
        "tt": counts.tt, "tf": counts.tf, "ft": counts.ft, "ff": counts.ff, "n": counts.n,
        "tt_share": share(counts.tt, counts.n),
        "p_answer_given_step": share(counts.tt, counts.tt + counts.tf),
        "p_answer_given_not_step": share(counts.ft, counts.ft + counts.ff),
        "phi": phi(counts),
        "phi_ci": list(phi_interval(counts)),
        "phi_ci_reliable": smallest_expected_count(counts) >= MIN_EXPECTED_COUNT,
        "chi2": chi2, "chi2_p": chi2_p,
        "chi2_yates": yates, "chi2_yates_p": yates_p,
        "fisher_p": fisher_p(counts),
        "independence_rejected_5pct": (not math.isnan(chi2)) and chi2 >= CHI2_CRITICAL_5PCT,
    }
