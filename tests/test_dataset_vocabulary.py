"""Datasets own their trace vocabulary: a dataset registered at run time, with a CLS and an IR sentence no
built-in dataset uses, is rendered and parsed from its own declaration and scored (strict) with its label read."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tracekd_ext.adapters import get_spec, register, unregister
from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.answer_rules import exact_match_any
from tracekd_ext.errors import TracekdError
from tracekd_ext.record import Problem
from tracekd_ext.scoring import score
from tracekd_ext.trace_format import render_target
from tracekd_ext.trace_parse import parse

PROBLEM = Problem(
    id="recipes/0", dataset="recipes", label="Baking",
    units=("Preheat the oven to 200 degrees.", "Knead the dough for ten minutes.", "Serve with butter."),
    question="What is done to the dough?", support=(1,), answers=("knead it",),
)
SPEC = DatasetSpec(
    name="recipes",
    labels=("Baking", "Frying", "Boiling"),
    cls_sentence="Each step belongs to a cooking method. The cooking method of this recipe step is: {label}.\n",
    ir_intro="The recipe lines I rely on are: ",
    unit_noun="recipe lines",
    context_style="list",
    render_answer=lambda problem: problem.answers[0],
    answer_format="a short phrase",
    score_answer=lambda problem, text, mode: exact_match_any(text, problem.answers),
    wrong_unit_count=lambda problem: 1,
    paper_cls_sentence=1,
    load=lambda data_dir=None, split="test", **options: [PROBLEM],
)


@pytest.fixture
def registered():
    register(SPEC)
    try:
        yield SPEC
    finally:
        unregister(SPEC.name)


def test_unregistered_sentences_are_not_read():
    parsed = parse(render_target(PROBLEM, SPEC, "correct"))
    assert parsed.cls_label is None and parsed.ir_text is None


def test_registered_dataset_is_parsed_and_scored_from_its_declaration(registered):
    assert get_spec("recipes") is registered
    generation = render_target(PROBLEM, registered, "correct")
    parsed = parse(generation)
    assert parsed.cls_label == "Baking"
    assert parsed.ir_text == "['Knead the dough for ten minutes.']"
    s = score(PROBLEM, parsed, registered, "strict", "trace")
    assert (s.parse_ok, s.cls_correct, s.ret_correct, s.trace_correct, s.answer_correct) == (True,) * 5
    assert s.pred_label == "Baking" and s.cited == (1,)


def test_wrong_label_of_registered_dataset_is_read_and_judged(registered):
    generation = render_target(PROBLEM, registered, "incorrect", seed=3)
    parsed = parse(generation)
    assert parsed.cls_label in ("Frying", "Boiling")
    s = score(PROBLEM, parsed, registered, "strict", "trace")
    assert s.cls_correct is False and s.ret_correct is False and s.answer_correct is True


def test_spec_given_to_parse_needs_no_registration():
    parsed = parse(render_target(PROBLEM, SPEC, "correct"), SPEC)
    assert parsed.cls_label == "Baking" and parsed.trace_format_ok


def test_unregister_forgets_the_dataset(registered):
    unregister(SPEC.name)
    try:
        with pytest.raises(TracekdError, match="unknown dataset 'recipes'"):
            get_spec("recipes")
        assert parse(render_target(PROBLEM, SPEC, "correct")).cls_label is None
    finally:
        register(SPEC)  # the fixture unregisters it


def test_a_name_is_registered_once():
    with pytest.raises(TracekdError, match="already registered"):
        register(dataclasses.replace(SPEC, name="cotemp"))


def test_built_in_sentences_still_parse():
    for name in ("cotemp", "babi", "marco"):
        spec = get_spec(name)
        label = spec.labels[0]
        parsed = parse(spec.cls_sentence.format(label=label).join(["<think>", ""]) + spec.ir_intro + "['x']"
                       + "</think> <answer>y</answer>")
        assert parsed.cls_label == label and parsed.ir_text == "['x']", name


def test_cls_sentence_without_label_is_refused():
    with pytest.raises(TracekdError, match="cls_sentence"):
        dataclasses.replace(SPEC, cls_sentence="No label here.\n")


def test_rescore_reads_a_registered_dataset(registered, tmp_path):
    """``tracekd rescore`` takes a registered dataset's records as it takes a built-in one's (the registry, not a
    fixed list of names, says which datasets exist)."""
    from tracekd_ext.rescore import load_scored

    predictions = tmp_path / "recipes.jsonl"
    row = {**PROBLEM.to_dict(), "prediction": render_target(PROBLEM, registered, "correct")}
    predictions.write_text(json.dumps(row) + "\n", encoding="utf-8")
    (item,) = load_scored(predictions).items
    assert item.problem.dataset == "recipes" and item.score.trace_correct and item.score.answer_correct
