"""Scoring is linear in the generation's length: adversarial 1 MB generations (the benchmark's) each score
within a generous bound, and the issue's 200 KB escaped-quote generation is read in well under a second."""

from __future__ import annotations

import sys
import time

import pytest
from data_paths import REPO

from tracekd_ext.adapters import get_spec
from tracekd_ext.scoring import score
from tracekd_ext.text import literal_strings
from tracekd_ext.trace_parse import parse

sys.path.insert(0, str(REPO / "bench"))
from bench_scoring import adversarial_generations  # noqa: E402

BOUND_S = 2.0  # per item, generous: linear scoring of 1 MB takes well under a tenth of it on an idle core
COTEMP = get_spec("cotemp")
GENERATIONS = adversarial_generations()


@pytest.fixture(scope="module")
def problem(data_dir):
    return COTEMP.load(data_dir, "test")[0]


@pytest.mark.parametrize("name", sorted(GENERATIONS))
@pytest.mark.parametrize(("mode", "kind"), [("strict", "trace"), ("paper", "trace"), ("strict", "direct")])
def test_adversarial_generation_scores_within_bound(problem, name, mode, kind):
    generation = GENERATIONS[name]
    assert len(generation) >= 900_000
    start = time.perf_counter()
    score(problem, parse(generation), COTEMP, mode, kind)
    assert time.perf_counter() - start < BOUND_S


def test_escaped_quotes_are_read_in_one_pass():
    text = "<think>x</think> <answer>['" + "\\'" * 99_000 + "]</answer>"  # took 111 s when quadratic
    start = time.perf_counter()
    assert literal_strings(text) is None  # the string never closes: no list literal
    assert time.perf_counter() - start < 1.0
    closed = "['" + "\\'" * 99_000 + "']"
    assert literal_strings(closed) == ["'" * 99_000]
