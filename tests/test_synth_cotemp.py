"""The synthetic co-temporal generator: gold answers, labels and support re-derived independently from the
fact texts; determinism; options; round trip through the trace format and strict scoring."""

from __future__ import annotations

import calendar
import json
import re
from collections import Counter
from datetime import date, datetime

import pytest

from tracekd_ext.adapters import get_spec
from tracekd_ext.adapters.synth.generator import generate, parse_relation_mix
from tracekd_ext.cli import main
from tracekd_ext.errors import TracekdError
from tracekd_ext.scoring import score
from tracekd_ext.trace_format import render_target
from tracekd_ext.trace_parse import parse

# The fact phrases of CoTemp QA, present and past tense -> relation family (written out here on purpose:
# the check must not reuse the generator's tables).
PHRASES = {
    "holds the position of": "position", "held the position of": "position",
    "is a member of the": "member", "was a member of the": "member",
    "is the chair of": "chair", "was the chair of": "chair",
    "is the head of": "head", "was the head of": "head",
    "is owned by": "owned", "was owned by": "owned",
    "attended": "attended",
    "works for": "works", "worked for": "works",
    "plays for": "plays", "played for": "plays",
}
FACT = re.compile(rf"^(?P<s>.+?) (?P<phrase>{'|'.join(PHRASES)}) (?P<o>.+?) "
                  r"(?:in (?P<at>[^.]+)|from (?P<start>[^.]+?) to (?P<end>[^.]+))\.$")


def days(expression: str) -> tuple[date, date]:
    """First and last day of ``2003``, ``May, 2003`` or ``March 3, 2001``."""
    for fmt, unit in (("%B %d, %Y", "day"), ("%B, %Y", "month"), ("%Y", "year")):
        try:
            first = datetime.strptime(expression, fmt).date()
        except ValueError:
            continue
        if unit == "day":
            return first, first
        if unit == "month":
            return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])
        return first, first.replace(month=12, day=31)
    raise AssertionError(f"not a CoTemp time expression: {expression!r}")


def read_fact(text: str) -> dict:
    match = FACT.match(text)
    assert match, f"fact does not follow the CoTemp templates: {text!r}"
    if match["at"]:
        first, last = days(match["at"])
    else:
        first, last = days(match["start"])[0], days(match["end"])[1]
        assert first < last
    return {"s": match["s"], "family": PHRASES[match["phrase"]], "o": match["o"], "days": (first, last)}


def co_temporal(a: tuple[date, date], b: tuple[date, date]) -> str | None:
    if a[1] < b[0] or b[1] < a[0]:
        return None
    if a == b:
        return "equal"
    if (b[0] <= a[0] and a[1] <= b[1]) or (a[0] <= b[0] and b[1] <= a[1]):
        return "during"
    return "overlap"


@pytest.fixture(scope="module")
def problems():
    return generate("test", 300, seed=7, distractors=6, relation_mix=parse_relation_mix(None))


def test_gold_answers_are_exactly_the_co_temporal_entities(problems):
    for p in problems:
        facts = [read_fact(u) for u in p.units]
        anchor = facts[p.meta["anchor"]]
        asked_subject, asked_object = p.meta["asked_subject"], p.meta["asked_object"]
        assert anchor["s"] in p.question and anchor["o"] in p.question
        matches = [i for i, f in enumerate(facts) if i != p.meta["anchor"] and f["family"] == p.meta["asked_family"]
                   and (f["s"] == asked_subject if asked_object is None else f["o"] == asked_object)]
        relations = {i: co_temporal(anchor["days"], facts[i]["days"]) for i in matches}
        gold = [i for i in matches if relations[i] is not None]
        entity = (lambda f: f["o"]) if asked_object is None else (lambda f: f["s"])
        assert sorted(p.answers) == sorted(entity(facts[i]) for i in gold), p.id
        distinct = {relations[i] for i in gold}
        assert p.label == (distinct.pop() if len(distinct) == 1 else "mix"), p.id
        assert list(p.support) == gold == [i for i, u in enumerate(p.units) if any(a in u for a in p.answers)]
        assert not any(a in p.question for a in p.answers)


def test_questions_follow_their_fact_pair_pattern(problems):
    for p in problems:
        triple, anchor = p.meta["triple_element"], read_fact(p.units[p.meta["anchor"]])
        same_relation = p.meta["asked_family"] == anchor["family"]
        assert same_relation == ("_R1_" in triple)
        if triple.startswith("S1"):
            assert p.meta["asked_subject"] == anchor["s"]
        elif triple == "S2_R1_O1":
            assert p.meta["asked_object"] == anchor["o"] and p.meta["asked_subject"] is None
        else:
            assert p.meta["asked_subject"] not in (None, anchor["s"]) and p.meta["asked_subject"] in p.question


def test_the_generator_covers_labels_patterns_and_granularities(problems):
    assert set(Counter(p.label for p in problems)) == {"equal", "overlap", "during", "mix"}
    assert set(Counter(p.meta["triple_element"] for p in problems)) == {
        "S1_R1_O2", "S1_R2_O2", "S2_R1_O1", "S2_R1_O2", "S2_R2_O2"}
    text = " ".join(u for p in problems for u in p.units)
    assert re.search(r" in \d{4}\.", text) and re.search(r" in [A-Z][a-z]+, \d{4}\.", text)
    assert re.search(r" in [A-Z][a-z]+ \d{1,2}, \d{4}\.", text) and " from " in text
    assert {read_fact(u)["family"] for p in problems for u in p.units} == set(PHRASES.values())
    assert all(len(p.answers) >= 2 for p in problems if p.label == "mix")


def test_distractors_and_relation_mix_options():
    for n in (0, 3, 9):
        for p in generate("test", 20, seed=1, distractors=n, relation_mix=parse_relation_mix(None)):
            assert len(p.units) == 1 + len(p.answers) + n
    only = generate("test", 30, seed=1, distractors=2, relation_mix=parse_relation_mix("equal,mix"))
    assert {p.label for p in only} == {"equal", "mix"}
    assert parse_relation_mix({"during": 2, "overlap": "1"}) == {"during": 2.0, "overlap": 1.0}
    assert parse_relation_mix("during=3, equal") == {"during": 3.0, "equal": 1.0}
    for bad in ("before", "equal=-1", "equal=x", "equal=0"):
        with pytest.raises(TracekdError):
            parse_relation_mix(bad)


def test_deterministic_per_seed_and_split():
    options = {"seed": 3, "distractors": 4, "relation_mix": parse_relation_mix(None)}
    first = [p.to_dict() for p in generate("test", 25, **options)]
    assert first == [p.to_dict() for p in generate("test", 25, **options)]
    assert first[:10] == [p.to_dict() for p in generate("test", 10, **options)]  # a larger size extends a smaller
    other_seed = generate("test", 25, **{**options, "seed": 4})
    assert [p.units for p in other_seed] != [tuple(d["units"]) for d in first]
    train = generate("train", 25, **options)
    assert not {u for p in train for u in p.units} & {u for d in first for u in d["units"]}
    assert len({d["id"] for d in first} | {p.id for p in train}) == 50


def test_adapter_load_options_and_splits():
    spec = get_spec("synth")
    test = spec.load(None, "test", size="4", seed="9", distractors=2, relation_mix="overlap")
    assert [p.id for p in test] == [f"synth/9/test/{i}" for i in range(4)]
    assert {p.label for p in test} == {"overlap"} and {p.dataset for p in test} == {"synth"}
    both = spec.load(None, "all", size=4, seed=9, distractors=2, relation_mix="overlap")
    assert [p.id for p in both] == [p.id for p in test] + [f"synth/9/train/{i}" for i in range(4)]
    assert spec.options == ("size", "seed", "distractors", "relation_mix") and spec.labels == (
        "equal", "overlap", "during", "mix")
    for bad in ({"size": -1}, {"size": "x"}, {"seed": 1.5}, {"distractors": True}):
        with pytest.raises(TracekdError):
            spec.load(None, "test", **bad)
    with pytest.raises(TracekdError):
        spec.load(None, "dev")


def test_gold_traces_score_perfectly_under_strict_scoring(problems):
    spec = get_spec("synth")
    for p in problems:
        result = score(p, parse(render_target(p, spec, "correct")), spec, "strict", "trace")
        assert result.parse_ok and result.trace_correct and result.answer_correct and result.answer_f1 == 1.0, p.id
        assert result.ret_f1 == 1.0 and result.grounded is True
        wrong = score(p, parse(render_target(p, spec, "incorrect")), spec, "strict", "trace")
        assert wrong.cls_correct is False and wrong.ret_correct is False and wrong.answer_correct


def test_data_export_works_on_synth(tmp_path, capsys):
    out = tmp_path / "synth.jsonl"
    assert main(["data", "export", "--dataset", "synth", "--split", "train", "--option", "size=5", "--option",
                 "seed=3", "--option", "relation_mix=during", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"synth/3/train/{i}" for i in range(5)] and {r["label"] for r in rows} == {
        "during"}
    assert rows[0]["dataset"] == "synth" and rows[0]["target"].startswith("<think>")
    assert rows[0]["meta"]["triple_element"] in {"S1_R1_O2", "S1_R2_O2", "S2_R1_O1", "S2_R1_O2", "S2_R2_O2"}
