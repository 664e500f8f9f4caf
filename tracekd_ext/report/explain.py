"""Why the scorer judged a generation as it did: ``(step, reason)`` rows in words, the text the report's sample
browser shows beside each sample. Written from the rules of :func:`tracekd_ext.scoring.score` (trace and
answer-only tasks) and :mod:`tracekd_ext.free_form.score` (free-form tasks); the scorer itself stays free of prose."""

from __future__ import annotations

import json

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.free_form.score import explain_free, judge_free
from tracekd_ext.reasons import ARROW, answer_reason, index_list, short_number, support_difference, verdict
from tracekd_ext.record import Problem
from tracekd_ext.scoring import SampleScore
from tracekd_ext.task_scoring import FREE
from tracekd_ext.trace_format import ANSWER_OPEN, THINK_CLOSE, THINK_OPEN
from tracekd_ext.trace_parse import ParsedTrace, parse


def _format_reason(parsed: ParsedTrace, s: SampleScore, kind: str) -> str:
    if kind == "direct":
        return "an answer was found" if s.parse_ok else "no answer found"
    if s.parse_ok:
        return f"complete: closed {THINK_OPEN} with a CLS and an IR sentence, and a tagged {ANSWER_OPEN}"
    missing = []
    if not parsed.has_think:
        missing.append(f"no {THINK_OPEN}")
    elif not parsed.think_closed:
        missing.append(f"{THINK_OPEN} never closed")
    if parsed.cls_label is None:
        missing.append("no CLS sentence")
    if parsed.ir_text is None:
        missing.append("no IR sentence")
    if not parsed.has_answer_tag:
        missing.append(f"no {ANSWER_OPEN} tag")
    return "incomplete: " + (", ".join(missing) if missing else "see the generation")


def _strict_reasons(problem: Problem, parsed: ParsedTrace, s: SampleScore) -> list[tuple[str, str]]:
    if parsed.cls_label is None:
        cls = f"no CLS sentence found {ARROW} wrong"
    else:
        cls = (f"predicted {json.dumps(parsed.cls_label, ensure_ascii=False)} vs gold "
               f"{json.dumps(problem.label, ensure_ascii=False)} (exact, case-insensitive) {ARROW} "
               f"{verdict(s.cls_correct)}")
    if parsed.ir_text is None:
        ir = f"no IR sentence found {ARROW} wrong"
    else:
        ir = f"cited units {index_list(s.cited)} vs gold support {index_list(problem.support)}"
        ir += support_difference(problem.support, s.cited)
        if s.uncited_items:
            ir += f"; {s.uncited_items} cited item(s) match no unit"
        ir += (f" (P {short_number(s.ret_precision)}, R {short_number(s.ret_recall)}, "
               f"F1 {short_number(s.ret_f1)}) {ARROW} "
               f"{verdict(s.ret_correct)}")
    return [("CLS", cls), ("IR", ir), ("trace", f"right when both CLS and IR are right {ARROW} "
                                               f"{verdict(s.trace_correct)}")]


def _paper_reasons(problem: Problem, s: SampleScore, spec: DatasetSpec) -> list[tuple[str, str]]:
    if not s.evaluated:
        return [("steps", f"not evaluated: no text before {THINK_CLOSE} (paper scoring counts the item in answer "
                          "accuracy only)")]
    sentence = "second" if spec.paper_cls_sentence == 1 else "first"
    label = json.dumps(problem.label, ensure_ascii=False)
    return [("CLS", f'paper rule: gold label {label} inside the {sentence} "."-sentence of the trace {ARROW} '
                    f"{verdict(s.cls_correct)}"),
            ("IR", f"paper rule: any context unit verbatim in the trace; units found {index_list(s.cited)} {ARROW} "
                   f"{verdict(s.ret_correct)}"),
            ("trace", f"right when both CLS and IR pass {ARROW} {verdict(s.trace_correct)}")]


def _grounded_reason(s: SampleScore, mode: str) -> str:
    if mode == "paper":
        return "n/a: not part of paper scoring"
    if s.grounded is None:
        return "n/a: the gold answer does not occur in the gold units"
    return ("yes: every answer item occurs in the units the trace cites" if s.grounded
            else "no: an answer item is missing from the cited units (or nothing was cited or answered)")


def explain(problem: Problem, parsed: ParsedTrace, s: SampleScore, spec: DatasetSpec, mode: str = "strict",
            kind: str = "trace") -> list[tuple[str, str]]:
    """Why ``s`` (the :func:`score` of ``parsed``) judged each step as it did: ``(step, reason)`` rows, read by
    the report's sample browser."""
    rows = [("format", _format_reason(parsed, s, kind))]
    if kind == "direct":
        rows.append(("steps", "not scored: an answer-only task"))
    else:
        rows += _paper_reasons(problem, s, spec) if mode == "paper" else _strict_reasons(problem, parsed, s)
    rows.append(("answer", answer_reason(s.answer_items, problem.answers, s.answer_correct, s.answer_f1)))
    if kind != "direct":
        rows.append(("grounded", _grounded_reason(s, mode)))
    return rows


def explain_generation(problem: Problem, generation: str, s: SampleScore, spec: DatasetSpec, mode: str,
                       kind: str) -> list[tuple[str, str]]:
    """Why ``s`` (the :func:`tracekd_ext.task_scoring.score_generation` of ``generation``) judged each step as
    it did, for a task of any kind."""
    if kind == FREE:
        return explain_free(problem, judge_free(problem, generation, spec, mode), spec)
    return explain(problem, parse(generation), s, spec, mode, kind)
