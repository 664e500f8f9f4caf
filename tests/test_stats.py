"""Statistics against hand-computed 2x2 tables and scipy; degenerate tables never crash."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from scipy.stats import nchypergeom_fisher
from scipy.stats.contingency import odds_ratio

from tracekd_ext.stats import (
    PairCounts,
    chi_square,
    conditional_phi_bounds,
    count_pairs,
    fisher_p,
    mean_interval,
    pair_statistics,
    phi,
    phi_interval,
    phi_of_cells,
    wilson_interval,
)

PAPER = PairCounts(tt=261, tf=195, ft=248, ff=245)  # Qwen3-1.7B, CoTemp, correct traces (SPEC 8)


def test_counts_from_pairs_skip_unevaluated_items():
    pairs = [(1, 1), (1, 0), (0, 1), (0, 0), (True, True), None, (None, 1)]
    assert count_pairs(pairs) == PairCounts(2, 1, 1, 1)


def test_phi_hand_computed():
    # phi = (10*20 - 5*15) / sqrt(15 * 35 * 25 * 25) = 125 / 572.822...
    assert phi(PairCounts(10, 5, 15, 20)) == pytest.approx(125 / math.sqrt(15 * 35 * 25 * 25))
    assert phi(PairCounts(10, 0, 0, 10)) == 1.0 and phi(PairCounts(0, 10, 10, 0)) == -1.0


def test_chi_square_matches_scipy_and_the_paper_reading():
    chi2, p = chi_square(PAPER)
    ref = sps.chi2_contingency(PAPER.table(), correction=False)
    assert chi2 == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    assert chi2 == pytest.approx(PAPER.n * phi(PAPER) ** 2)
    yates, _ = chi_square(PAPER, yates=True)
    assert yates == pytest.approx(sps.chi2_contingency(PAPER.table(), correction=True).statistic)
    assert fisher_p(PAPER) == pytest.approx(sps.fisher_exact(PAPER.table()).pvalue)
    s = pair_statistics(PAPER)
    assert s["tt_share"] == pytest.approx(261 / 949)  # the paper's "28%"
    assert s["p_answer_given_step"] == pytest.approx(261 / 456)
    assert s["independence_rejected_5pct"] == (chi2 >= 3.841)


def test_phi_interval_covers_phi_and_is_reproducible():
    low, high = phi_interval(PAPER)
    assert low < phi(PAPER) < high
    assert (low, high) == phi_interval(PAPER)
    # a large table: close to the Fisher-z interval for a correlation of this size
    z, se = math.atanh(phi(PAPER)), 1 / math.sqrt(PAPER.n - 3)
    assert low == pytest.approx(math.tanh(z - 1.96 * se), abs=0.02)
    assert high == pytest.approx(math.tanh(z + 1.96 * se), abs=0.02)
    assert pair_statistics(PAPER)["phi_ci_reliable"] is True


@pytest.mark.parametrize("cells", [(0, 3, 1, 12), (261, 195, 248, 245), (5, 0, 0, 5), (3, 1, 1, 3), (10, 2, 3, 9)])
def test_phi_interval_is_scipys_exact_odds_ratio_interval_on_the_phi_scale(cells):
    counts = PairCounts(*cells)
    row1, col1 = counts.tt + counts.tf, counts.tt + counts.ft
    ci = odds_ratio(counts.table(), kind="conditional").confidence_interval(0.95)

    def phi_at(psi, extreme):  # phi at the expected TT under odds ratio psi, margins fixed
        tt = extreme if psi in (0, math.inf) else nchypergeom_fisher(counts.n, col1, row1, psi).mean()
        return (tt * counts.n - row1 * col1) / math.sqrt(row1 * (counts.n - row1) * col1 * (counts.n - col1))

    low, high = phi_interval(counts)
    assert low == pytest.approx(phi_at(ci.low, max(0, row1 + col1 - counts.n)), abs=2e-3)
    assert high == pytest.approx(phi_at(ci.high, min(row1, col1)), abs=2e-3)


def test_small_table_interval_agrees_with_the_exact_test():
    counts = PairCounts(tt=0, tf=3, ft=1, ff=12)  # the table: Fisher p = 1.0
    low, high = phi_interval(counts)
    assert fisher_p(counts) == 1.0 and low <= 0 <= high
    assert low == pytest.approx(phi(counts))  # TT = 0 is the smallest TT these margins allow
    assert pair_statistics(counts)["phi_ci_reliable"] is False  # expected TT = 3 * 1 / 16


def _every_table(max_n):
    cells = np.array([(a, b, c, n - a - b - c) for n in range(1, max_n + 1) for a in range(n + 1)
                      for b in range(n + 1 - a) for c in range(n + 1 - a - b)])
    return cells.T


def test_interval_never_excludes_zero_without_exact_evidence_on_every_table_up_to_n30():
    tt, tf, ft, ff = _every_table(30)
    assert tt.size == 46375  # every 2x2 table with 1 <= N <= 30
    n = tt + tf + ft + ff
    low, high = conditional_phi_bounds(tt, tt + tf, tt + ft, n)
    defined = ~np.isnan(low)
    assert np.array_equal(defined, ~np.isnan(phi_of_cells(tt, tf, ft, ff)))
    excludes = defined & ((low > 0) | (high < 0))
    assert 0 < excludes.sum() < defined.sum()
    fisher = np.array([sps.fisher_exact([[a, b], [c, d]]).pvalue
                       for a, b, c, d in zip(tt[excludes], tf[excludes], ft[excludes], ff[excludes], strict=True)])
    assert (fisher < 0.10).all(), f"max Fisher p where the CI excludes 0: {fisher.max()}"
    observed = phi_of_cells(tt, tf, ft, ff)
    assert ((low[defined] <= observed[defined] + 1e-9) & (observed[defined] <= high[defined] + 1e-9)).all()
    assert ((low[defined] >= -1 - 1e-9) & (high[defined] <= 1 + 1e-9)).all()


@pytest.mark.parametrize("counts", [PairCounts(0, 0, 0, 0), PairCounts(5, 3, 0, 0), PairCounts(5, 0, 7, 0),
                                    PairCounts(0, 0, 0, 9)])
def test_degenerate_tables_give_nan_not_errors(counts):
    s = pair_statistics(counts)
    assert math.isnan(s["phi"]) and math.isnan(s["chi2"]) and math.isnan(s["chi2_yates"])
    assert all(math.isnan(v) for v in s["phi_ci"])
    assert s["fisher_p"] == 1.0 or (counts.n == 0 and math.isnan(s["fisher_p"]))
    assert s["independence_rejected_5pct"] is False


def test_wilson_and_mean_intervals():
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 7) == (0.0, pytest.approx(0.3543, abs=1e-4))  # exactly 0, not 5.55e-17
    assert wilson_interval(7, 7)[1] == 1.0
    for k, n in ((0, 7), (3, 7), (7, 7), (1, 1000), (612, 949)):
        ci = sps.binomtest(k, n).proportion_ci(method="wilson")
        assert wilson_interval(k, n) == (pytest.approx(ci.low, abs=1e-12), pytest.approx(ci.high, abs=1e-12))
    mean, low, high = mean_interval([0.5, 1.0, 0.0, 0.25])
    assert mean == pytest.approx(0.4375) and 0.0 <= low < mean < high <= 1.0
    assert all(math.isnan(v) for v in mean_interval([]))


@pytest.mark.parametrize("values", [[0.0, 0.2, 1.0], [1.0, 1.0, 0.9], [0.0, 0.05], [0.3] * 5])
def test_f1_mean_intervals_stay_inside_the_metric_range(values):
    mean, low, high = mean_interval(values, binary=False, replicates=2000)
    assert min(values) <= low <= mean <= high <= max(values)
