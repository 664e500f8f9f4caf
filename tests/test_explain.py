"""The reasons the sample browser shows are written in Python beside the report (report.explain,
interventions.browser_rows.explain_intervention), from the rules, and say what the rules decided; report.js only
displays them."""

from __future__ import annotations

from pathlib import Path

from test_scoring import PROBLEM, SPEC, trace

from tracekd_ext.interventions.browser_rows import explain_intervention
from tracekd_ext.report.explain import explain
from tracekd_ext.scoring import score
from tracekd_ext.trace_parse import parse


def reasons(text, mode="strict", kind="trace"):
    parsed = parse(text)
    return dict(explain(PROBLEM, parsed, score(PROBLEM, parsed, SPEC, mode, kind), SPEC, mode, kind))


def test_gold_trace_reasons():
    why = reasons(trace())
    assert why["format"].startswith("complete")
    assert why["CLS"].endswith("\u2192 correct") and '"equal"' in why["CLS"]
    assert why["IR"] == "cited units [0] vs gold support [0] (P 1, R 1, F1 1) \u2192 correct"
    assert why["trace"].endswith("correct") and why["answer"].endswith("\u2192 correct (F1 1)")
    assert why["grounded"].startswith("yes")


def test_wrong_steps_say_what_differs():
    why = reasons(trace(label="overlap", units=(0, 3), answer="['Red Party']"))
    assert '"overlap" vs gold "equal"' in why["CLS"] and why["CLS"].endswith("wrong")
    assert "extra [3]" in why["IR"] and "(P 0.5, R 1, F1 0.667)" in why["IR"] and why["IR"].endswith("wrong")
    assert why["answer"].startswith('read as ["red party"]') and "\u2192 wrong" in why["answer"]


def test_missing_parts_are_named():
    why = reasons("<think>no steps here</think> <answer>Green Party</answer>")
    assert why["format"] == "incomplete: no CLS sentence, no IR sentence"
    bare = reasons("Green Party")["format"]
    assert bare == "incomplete: no <think>, no CLS sentence, no IR sentence, no <answer> tag"
    assert why["CLS"] == "no CLS sentence found \u2192 wrong" and why["IR"] == "no IR sentence found \u2192 wrong"


def test_paper_and_direct_reasons():
    paper = reasons(trace(), mode="paper")
    assert paper["CLS"].startswith("paper rule:") and "first" in paper["CLS"]
    assert paper["grounded"] == "n/a: not part of paper scoring"
    direct = reasons("<answer>Green Party</answer>", kind="direct")
    assert direct["steps"] == "not scored: an answer-only task" and "grounded" not in direct


def test_intervention_reasons():
    why = dict(explain_intervention(PROBLEM, "wrong_ret", (3,), True, ("red party",), False, 0.0, True))
    assert why["forced trace"] == "wrong_ret: gold label, wrong units"
    assert why["follows trace"].startswith("yes") and "none of the gold units" in why["follows trace"]
    undefined = dict(explain_intervention(PROBLEM, "no_trace", None, None, (), False, 0.0, None))
    assert undefined["follows trace"] == "n/a: no units were forced"


def test_report_js_restates_no_rule():
    import tracekd_ext.report as report

    js = (Path(report.__file__).parent / "assets" / "report.js").read_text()
    for rule_text in ("case-insensitive", "paper rule", "verbatim", "never closed", "forced units", "occurs in"):
        assert rule_text not in js
    assert "sample.w" in js
