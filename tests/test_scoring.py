"""Strict and paper scoring of hand-written CoTemp generations."""

from __future__ import annotations

import pytest

from tracekd_ext.adapters import get_spec
from tracekd_ext.errors import TracekdError
from tracekd_ext.record import Problem
from tracekd_ext.scoring import score
from tracekd_ext.trace_format import render_trace
from tracekd_ext.trace_parse import parse

SPEC = get_spec("cotemp")
PROBLEM = Problem(
    id="cotemp/equal/0", dataset="cotemp", label="equal",
    units=("Ann Lee is a member of the Green Party in March 11, 2019.",
           "Ann Lee is a member of the Blue Party from 2001 to 2005.",
           "Ann Lee is a member of the independent politician in March 11, 2019.",
           "Bob Ray is a member of the Red Party in March 11, 2019."),
    question="While Ann Lee was a member of independent politician, which political party did Ann Lee "
             "belong to within the same time interval?",
    support=(0,), answers=("Green Party",), meta={"triple_element": "S1_R1_O2"},
)


def judge(text, mode="strict", kind="trace"):
    return score(PROBLEM, parse(text), SPEC, mode, kind)


def trace(label="equal", units=(0,), answer="['Green Party']"):
    return render_trace(SPEC, label, [PROBLEM.units[i] for i in units], answer)


def test_gold_trace_is_right_everywhere():
    s = judge(trace())
    assert (s.parse_ok, s.cls_correct, s.ret_correct, s.trace_correct, s.answer_correct) == (True,) * 5
    assert s.ret_f1 == 1.0 and s.answer_f1 == 1.0 and s.grounded is True and s.cited == (0,)


def test_wrong_label_only():
    s = judge(trace(label="overlap"))
    assert not s.cls_correct and s.ret_correct and not s.trace_correct and s.answer_correct


def test_label_must_match_exactly_not_as_substring():
    assert not judge(trace(label="equal or overlap")).cls_correct
    assert judge(trace(label="EQUAL")).cls_correct


def test_wrong_units_only():
    s = judge(trace(units=(1,)))
    assert s.cls_correct and not s.ret_correct and s.ret_f1 == 0.0 and s.answer_correct
    assert s.grounded is False  # the answer does not follow from the cited unit


def test_extra_unit_lowers_precision():
    s = judge(trace(units=(0, 3)))
    assert not s.ret_correct and s.ret_recall == 1.0 and s.ret_precision == 0.5
    assert s.ret_f1 == pytest.approx(2 / 3) and s.grounded is True


def test_cited_text_that_is_no_unit_counts_against_retrieval():
    s = judge(render_trace(SPEC, "equal", [PROBLEM.units[0], "Ann Lee is a member of the Moon Party."],
                           "['Green Party']"))
    assert not s.ret_correct and s.uncited_items == 1 and s.ret_precision == 0.5


def test_free_text_citations_are_found_in_prose():
    text = ("<think>" + SPEC.cls_sentence.format(label="equal") + SPEC.ir_intro + "the fact that "
            + PROBLEM.units[0].replace(" ", "  ") + " matters</think> <answer>['Green Party']</answer>")
    assert judge(text).ret_correct


def test_answer_right_with_wrong_trace():
    s = judge(trace(label="mix", units=(1, 2)))
    assert s.answer_correct and not s.trace_correct and not s.cls_correct and not s.ret_correct


def test_answer_normalisation_and_free_text_answers():
    assert judge(trace(answer="['green  party.']")).answer_correct
    assert judge(trace(answer="The answer is the Green Party.")).answer_correct
    assert not judge(trace(answer="['Blue Party']")).answer_correct
    assert not judge(trace(answer="['Green Party', 'Blue Party']")).answer_correct
    assert judge(trace(answer="['Green Party', 'Blue Party']")).answer_f1 == pytest.approx(2 / 3)


def test_unparseable_outputs_score_wrong_without_raising():
    for text in ["", "<think>", "</think>", "<answer>", "[[[", "x" * 100_000, "<think>\x00</think><answer>\ud7ff"]:
        s = judge(text)
        assert not s.parse_ok and not s.trace_correct
    truncated = judge(trace()[:60])
    assert not truncated.parse_ok and not truncated.answer_correct


def test_direct_kind_scores_the_answer_only():
    s = judge("['Green Party']", kind="direct")
    assert s.answer_correct and s.parse_ok and s.cls_correct is None and s.trace_correct is None


def test_paper_mode_accepts_any_unit_and_a_label_substring():
    irrelevant = judge(trace(units=(3,)), mode="paper")
    assert irrelevant.ret_correct  # the published defect: any copied unit passes
    assert judge(trace(label="equal or overlap"), mode="paper").cls_correct
    not_evaluated = judge("<answer>['Green Party']</answer>", mode="paper")
    assert not not_evaluated.evaluated and not_evaluated.trace_correct is None and not_evaluated.answer_correct


def test_unknown_mode_and_kind_are_errors():
    with pytest.raises(TracekdError, match="scoring mode"):
        judge(trace(), mode="lenient")
    with pytest.raises(TracekdError, match="task kind"):
        judge(trace(), kind="essay")


@pytest.mark.parametrize("mode", ["strict", "paper"])
def test_gold_trace_cut_at_the_stop_string_is_right_everywhere(mode):
    """Generation stops at ``</answer>``, which lm-eval strips: the gold trace without it scores the same."""
    gold = render_trace(SPEC, PROBLEM.label, [PROBLEM.units[i] for i in PROBLEM.support], repr(list(PROBLEM.answers)))
    assert gold.endswith("</answer>")
    assert judge(gold.removesuffix("</answer>"), mode) == judge(gold, mode)
    assert judge(gold.removesuffix("</answer>"), mode).answer_correct
