"""The compiled free-form judge (``tracekd_ext/free_form/_judge.c``) reads every text as the pure-Python one does:
the same citations and suspect sentences on generations of every dataset, on fuzzed prose (accents, non-Latin
letters, Unicode digits and spaces, possessives, separators without end) and on hypothesis' texts; ``fold`` the same
as its definition; ``judge_steps`` the same with the compiled judge switched off. And sums of idf weights that are
equal in exact arithmetic are equal (``TIE``), whatever the order of the additions."""

from __future__ import annotations

import os
import random
import re
import sys
import unicodedata

import pytest
from data_paths import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from tracekd_ext.adapters import get_spec
from tracekd_ext.free_form import match
from tracekd_ext.free_form.match import _judge_text, fold, judge_steps, unit_index

sys.path.insert(0, str(REPO / "bench"))
from bench_free_scoring import clear_caches, free_generation  # noqa: E402

compiled = pytest.mark.skipif(not match.COMPILED, reason="tracekd was installed without a C compiler")
PIECES = ("Ørsted", "Łódź", "–", "\u00a0", "²", "Ⅻ", "北京", "２００１", "e\u0301", "İ", "ß", "_", "'s", "s'",
          ". ", "! ", "?", ";", "\n", " and ", "1990 and 1999", "March 2001", "May", "3 May 2001", "in 2020", "Sept",
          "\t", "\x1c", ".\u2009", "x's", "it's", "Zed", "Quux")


@pytest.fixture(autouse=True, scope="module")
def _compiled_judge_on():
    """These tests compare the compiled judge with the pure-Python one, also where TRACEKD_PURE_PYTHON is set."""
    was_on = match._judge is not None
    match.use_compiled_judge(match.COMPILED)
    yield
    match.use_compiled_judge(was_on)


def _fuzz(problem, rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 25)):
        if problem.units and rng.random() < 0.5:
            unit = rng.choice(problem.units)
            a = rng.randint(0, len(unit))
            parts.append(unit[a:rng.randint(a, len(unit))] if rng.random() < 0.3 else unit)
        else:
            parts.append(rng.choice(PIECES))
        parts.append(rng.choice((" ", ". ", "\n", "; ", " and ", ", ", "")))
    return "".join(parts)


def _both(problem, text: str):
    index = unit_index(problem.units, problem.question)
    folded = fold(text)
    return match._compiled.judge(index.compiled, folded), _judge_text(index.tables, folded)


@pytest.fixture(scope="module")
def problems(data_dir):
    chosen = []
    for name in ("cotemp", "babi", "marco", "synth"):
        loaded = [p for p in get_spec(name).load(data_dir, "all") if p.units]
        chosen += [(name, p) for p in loaded[:: max(1, len(loaded) // 120)]]
    return chosen


def test_the_compiled_judge_is_built_in_ci():
    """CI installs with a C compiler: the suite must exercise the compiled judge there."""
    if os.environ.get("CI"):
        assert match.COMPILED, "tracekd_ext/free_form/_judge.c was not built (pip install -e . builds it)"


@compiled
def test_compiled_and_python_judges_agree_on_every_dataset(problems):
    rng = random.Random(11)
    for name, problem in problems:
        texts = [_fuzz(problem, rng), _fuzz(problem, rng)]
        if name == "cotemp":  # the benchmark's prose is written for CoTemp's facts
            texts.append(free_generation(problem, rng, rng.choice((300, 2000))))
        for text in texts:
            ours, python = _both(problem, text)
            assert ours == python, (name, problem.id, text)
            assert list(ours[1]) == list(python[1])  # suspect sentences in the same order


@compiled
@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.sampled_from(PIECES) | st.text(max_size=6), max_size=30), seed=st.integers(0, 10_000))
def test_compiled_and_python_judges_agree_on_any_text(problems, pieces, seed):
    problem = problems[seed % len(problems)][1]
    text = " ".join(pieces + [problem.units[seed % len(problem.units)]])
    ours, python = _both(problem, text)
    assert ours == python


UNIT_VARIANTS = ("Ann Lee works for Acme from 2001 to 2005.", " Ann  Lee\tworks ", "Ann Lee works", "", " ",
                 "\u00a0Ørsted\x1c2001 ", "Bob was in Paris in May 1990.")


@compiled
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(UNIT_VARIANTS) | st.text(max_size=12), max_size=8))
def test_build_groups_units_as_python(units):
    """Whitespace-normalised keys in first-seen order, the unit indices of each, and whether a unit is dated."""
    units = tuple(units)
    by_key: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        by_key.setdefault(" ".join(unit.split()), []).append(i)
    keys, indices, dated, _ = match._compiled.build(units, match.NAME_SHARE, match._fold_chars)
    assert (keys, indices) == (tuple(by_key), tuple(map(tuple, by_key.values())))
    assert dated == any(dates for _, dates in map(match.unit_content, keys))


@compiled
@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40) | st.lists(st.sampled_from(PIECES)).map("".join))
def test_fold_is_its_definition(text):
    combining = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
    expected = text.lower() if text.isascii() else combining.sub("", unicodedata.normalize("NFKD", text)).casefold()
    assert fold(text) == expected


@compiled
@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40) | st.lists(st.sampled_from(PIECES)).map("".join))
def test_sentences_and_words_are_their_definitions(text):
    assert match._compiled.sentences(text) == match._SEPARATOR.split(text)
    folded = fold(text)
    words = set(match._WORD.findall(folded))
    assert match._compiled.words(folded) == words | {match.stem(w) for w in words}


@compiled
def test_judge_steps_is_the_same_without_the_compiled_judge(problems):
    rng = random.Random(5)
    cases = [(p, text) for name, p in problems[::3]
             for text in ((free_generation(p, rng, 800),) if name == "cotemp" else ()) + (_fuzz(p, rng),)]
    clear_caches()
    with_compiled = [(judge_steps(p.units, p.question, t), fold(t)) for p, t in cases]
    match.use_compiled_judge(False)
    try:
        assert [(judge_steps(p.units, p.question, t), fold(t)) for p, t in cases] == with_compiled
        assert unit_index(cases[0][0].units, cases[0][0].question).compiled is None  # the pure-Python path ran
    finally:
        match.use_compiled_judge(True)


# Six bAbI-like units: "yesterday" is held by four (idf log 1.5), "fred" by three (log 2), "cinema" by two (log 3),
# so the unit "Yesterday Fred travelled to the cinema" weighs log 1.5 + log 2 + log 3 = 2 log 3 and "cinema" alone
# holds exactly half of it, which floating point sums reach or miss by the order of the additions.
TIE_UNITS = ("Fred went to the kitchen this morning.", "Julie journeyed to the bedroom yesterday.",
             "Yesterday Bill went back to the office.", "This afternoon Fred went to the cinema.",
             "Yesterday Fred travelled to the cinema.", "Yesterday Mary travelled to the bedroom.")


def test_exactly_half_is_not_more_than_half_without_dates():
    clear_caches()
    assert judge_steps(TIE_UNITS, "Where is Fred?", "They met at the cinema.").cited == ()
    # "fred cinema": log 6, more than half of unit 4 (log 3); exactly half of unit 3 (afternoon, fred, cinema: log 36)
    assert judge_steps(TIE_UNITS, "Where is Fred?", "Fred was at the cinema.").cited == (4,)


def test_exactly_half_is_at_least_half_with_dates():
    years = (2001, 2002, 2003, 2004, 2005, 2006)
    units = tuple(f"{unit[:-1]} in {year}." for unit, year in zip(TIE_UNITS, years, strict=True))
    clear_caches()
    assert judge_steps(units, "Where was Fred?", "The cinema visit was in 2005.").cited == (4,)
