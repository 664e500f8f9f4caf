"""Statistics against hand-computed 2x2 tables and scipy; degenerate tables never crash."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from tracekd_ext.stats import (
    PairCounts,
    chi_square,
    count_pairs,
    fisher_p,
    mean_interval,
    pair_statistics,
    phi,
    phi_interval,
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
    # close to the Fisher-z interval for a correlation of this size
    z, se = math.atanh(phi(PAPER)), 1 / math.sqrt(PAPER.n - 3)
    assert low == pytest.approx(math.tanh(z - 1.96 * se), abs=0.02)
    assert high == pytest.approx(math.tanh(z + 1.96 * se), abs=0.02)


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
    mean, low, high = mean_interval([0.5, 1.0, 0.0, 0.25])
    sd = np.std([0.5, 1.0, 0.0, 0.25], ddof=1)
    assert mean == pytest.approx(0.4375) and high - mean == pytest.approx(1.959964 * sd / 2, rel=1e-5)
    assert all(math.isnan(v) for v in mean_interval([]))
