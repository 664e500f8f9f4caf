"""Free-form judging is linear in the generation's length: each adversarial prose of the benchmark (dates without
end, unclosed \\boxed{, every line an answer, clauses chained by "and", unknown capitalised words, label phrases, a
sentence of 1,200 distinct years between clauses) scored at 1x and 8x its size takes no more than 24 times as long
(linear: about 8; quadratic: 64). The best of three runs is compared, in CPU time of this process (a busy machine's
other work does not count), so no absolute time is asserted and the load does not move the ratio."""

from __future__ import annotations

import sys
import time

import pytest
from data_paths import REPO

from tracekd_ext.adapters import get_spec
from tracekd_ext.free_form.score import score_free

sys.path.insert(0, str(REPO / "bench"))
from bench_free_scoring import adversarial_prose, clear_caches  # noqa: E402

COTEMP = get_spec("cotemp")
SMALL, LARGE = 40_000, 320_000
RATIO_BOUND = 24.0


@pytest.fixture(scope="module")
def problem(data_dir):
    return COTEMP.load(data_dir, "test")[0]


def _best_of_three(problem, text: str) -> float:
    times = []
    for _ in range(3):
        clear_caches()
        start = time.process_time()
        score_free(problem, text, COTEMP)
        times.append(time.process_time() - start)
    return min(times)


@pytest.mark.parametrize("name", sorted(adversarial_prose(100)))
def test_adversarial_prose_scales_linearly(problem, name):
    small, large = adversarial_prose(SMALL)[name], adversarial_prose(LARGE)[name]
    assert len(large) == 8 * len(small)
    _best_of_three(problem, small)  # warm the imports and the problem's caches' code paths
    ratio = _best_of_three(problem, large) / max(_best_of_three(problem, small), 1e-4)
    assert ratio < RATIO_BOUND, f"{name}: 8x the text took {ratio:.1f}x the time"
