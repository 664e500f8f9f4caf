"""Scoring is linear in the generation's length: adversarial 1 MB generations (the benchmark's) each score
within a generous bound, and the issue's 200 KB escaped-quote generation is read in well under a second.
Linear in the dataset too: a CoTemp fact that repeats a relation phrase (the fact-pair templates backtracked
on it) and a synthetic problem with thousands of distractors (the name pool compared every pair of names),
each checked against the quadratic original on normal data."""

from __future__ import annotations

import random
import re
import sys
import time

import pytest
from data_paths import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from tracekd_ext.adapters import get_spec
from tracekd_ext.adapters.cotemp_answer import fact_pairs
from tracekd_ext.adapters.synth import names
from tracekd_ext.adapters.synth.generator import generate
from tracekd_ext.errors import TracekdError
from tracekd_ext.scoring import score
from tracekd_ext.text import literal_strings
from tracekd_ext.trace_parse import parse

sys.path.insert(0, str(REPO / "bench"))
from bench_scoring import adversarial_cotemp_problem, adversarial_generations  # noqa: E402

BOUND_S = 2.0  # CPU seconds per item, generous: linear scoring of 1 MB takes well under a tenth of it
COTEMP = get_spec("cotemp")


@pytest.fixture(scope="module")
def problem(data_dir):
    return COTEMP.load(data_dir, "test")[0]


@pytest.fixture(scope="module")
def generations():
    return adversarial_generations()


@pytest.mark.parametrize("name", sorted(adversarial_generations(0)))
@pytest.mark.parametrize(("mode", "kind"), [("strict", "trace"), ("paper", "trace"), ("strict", "direct")])
def test_adversarial_generation_scores_within_bound(problem, generations, name, mode, kind):
    generation = generations[name]
    assert len(generation) >= 900_000
    start = time.process_time()
    score(problem, parse(generation), COTEMP, mode, kind)
    assert time.process_time() - start < BOUND_S


def test_escaped_quotes_are_read_in_one_pass():
    text = "<think>x</think> <answer>['" + "\\'" * 99_000 + "]</answer>"  # took 111 s when quadratic
    start = time.process_time()
    assert literal_strings(text) is None  # the string never closes: no list literal
    assert time.process_time() - start < 1.0
    closed = "['" + "\\'" * 99_000 + "']"
    assert literal_strings(closed) == ["'" * 99_000]


# --- linear in the dataset ---------------------------------------------------------------------------------

# The published fact templates as the official code wrote them (regexes tried with re.match, in this order per
# relation marker): the reference the linear reading must equal.
_PUBLISHED = (
    (" the position of ", "holds the position of"), (" a member of ", "is a member of the"),
    (" the chair of ", "is the chair of"), (" the head of ", "is the head of"), (" owned by ", "is owned by"),
    ("attend", "attended"), ("work", "works for"), ("play", "plays for"),
)
_PAST = ((" was ", " is "), (" held ", " holds "), (" worked ", " works "), (" played ", " plays "))


def _published_templates(phrase):
    span = re.compile(rf"(.+?) {phrase} (.+?) from (.+?) to (.+?)\.")
    point = re.compile(rf"(.+?) {phrase} (.+?) in (.+?)\.")
    open_span = re.compile(rf"(.+?) {phrase} (.+?) from (.+?)")
    bare = re.compile(rf"(.+?) {phrase} (.+?)\.")
    if phrase == "holds the position of":
        return span, point, open_span, point, bare
    return span, point, open_span, bare


def published_fact_pairs(facts):
    found = []
    for fact in facts:
        for marker, phrase in _PUBLISHED:
            if marker not in fact:
                continue
            for old, new in _PAST:
                fact = fact.replace(old, new)
            match = next((m for m in (t.match(fact) for t in _published_templates(phrase)) if m), None)
            if match:
                found.append((match.group(1).lower(), match.group(2).lower()))
                break
    return tuple(found)


def test_fact_pairs_equal_the_published_regexes_on_every_cotemp_fact(cotemp_problems):
    for problem in cotemp_problems:
        assert fact_pairs.__wrapped__(problem.units) == published_fact_pairs(problem.units), problem.id


_FACT_PIECES = (" holds the position of ", " held the position of ", " is a member of the ", " was ", " the chair of ",
                " is the chair of ", " is the head of ", " is owned by ", " owned by ", "attended", " works for ",
                "worked for", " plays for ", " played for ", " from ", " to ", " in ", ".", "..", "\n", " ", "Ann",
                "x.y", "from", "to", "in", "play", "work")


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_FACT_PIECES), min_size=1, max_size=14).map("".join))
def test_fact_pairs_equal_the_published_regexes_on_made_up_facts(fact):
    assert fact_pairs.__wrapped__((fact,)) == published_fact_pairs((fact,))


def test_a_fact_repeating_a_relation_phrase_scores_within_bound():
    problem = adversarial_cotemp_problem(92_000)  # 22 s when the templates backtracked
    assert len(problem.units[0]) >= 90_000
    start = time.process_time()
    fact_pairs.__wrapped__(problem.units)
    for mode in ("strict", "paper"):
        score(problem, parse("<think>x</think> <answer>It was the mayor.</answer>"), COTEMP, mode)
    assert time.process_time() - start < BOUND_S


class _PairwisePool:
    """The name pool as first written: every new name compared with every name handed out."""

    def __init__(self, rng):
        self._rng, self._used = rng, []

    def new(self, kind):
        for _ in range(1000):
            name = names._entity(kind, self._rng)
            if not any(name in used or used in name for used in self._used):
                self._used.append(name)
                return name
        raise AssertionError("no fresh name")


@pytest.mark.parametrize("seed", range(8))
def test_name_pool_hands_out_the_names_of_the_pairwise_check(seed):
    kinds = random.Random(seed).choices(names.ENTITY_KINDS, k=1500)
    pool, reference = names.NamePool(random.Random(seed)), _PairwisePool(random.Random(seed))
    assert [pool.new(kind) for kind in kinds] == [reference.new(kind) for kind in kinds]


def test_names_shorter_than_the_index_pieces_are_checked_too(monkeypatch):
    drawn = iter(["Vel", "Velamora", "el", "Ost"])  # no generated name is this short
    monkeypatch.setattr(names, "_entity", lambda kind, rng: next(drawn))
    pool = names.NamePool(random.Random(0), max_tries=2)
    assert pool.new("place") == "Vel"
    with pytest.raises(TracekdError, match="fresh place name"):
        pool.new("place")  # 'Velamora' holds 'Vel', 'el' is inside it
    assert pool.new("place") == "Ost"


def test_thousands_of_distractors_generate_within_bound():
    start = time.process_time()  # CPU time (a loaded machine's waits are not counted): 16 s when names were
    problems = [p for split in ("test", "train")  # compared pairwise, about 1.7 s now at load 14
                for p in generate(split, 1, seed=42, distractors=8000, relation_mix={"equal": 1.0})]
    assert time.process_time() - start < 4 * BOUND_S
    assert len(problems) == 2 and all(len(p.units) > 8000 for p in problems)
