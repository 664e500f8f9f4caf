"""Scoring one free-form generation (the ``*_free`` tasks) step by step, with the same per-sample fields as the
trace tasks (``pred_label``, ``cited``, ``answer_items``, ``answer_correct``, ...) plus ``hallucinated``, and the
reasons the report's sample browser shows.

- format (``parse_ok``): a final answer was found by the convention (:mod:`tracekd_ext.free_form.parse`);
- classification (``cls_correct``): the label the reasoning names (:func:`tracekd_ext.free_form.match.judge_label`)
  is the gold label; ``None`` (not scored) for datasets that declare no label phrases;
- retrieval (``ret_correct``, precision, recall, F1): the units the reasoning states
  (:func:`tracekd_ext.free_form.match.judge_steps`) against the gold support, as for trace tasks;
- ``trace_correct``: every scored step is right (the retrieval step alone where the label is not scored);
- the answer: the dataset's strict rule on the final answer (no final answer: wrong);
- ``grounded`` as for trace tasks; ``hallucinated``: a dated statement no unit holds (``None`` without dates).
Free-form judging has one rule set (strict).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.errors import TracekdError
from tracekd_ext.free_form.match import StepJudgement, judge_label, judge_steps, sentence_text, unit_index
from tracekd_ext.free_form.parse import FreeParse, parse_free
from tracekd_ext.frozen_build import builder
from tracekd_ext.reasons import ARROW, answer_reason, quoted, support_difference
from tracekd_ext.record import Problem
from tracekd_ext.scoring import SampleScore, gold_answer_in_units
from tracekd_ext.text import normalize_answer, precision_recall_f1

FREE_MODES = ("strict",)


@dataclass(frozen=True, slots=True, kw_only=True)
class FreeScore(SampleScore):
    """A :class:`SampleScore` of a free-form generation, plus ``hallucinated``."""

    hallucinated: bool | None


@dataclass(frozen=True, slots=True)
class FreeJudgement:
    """The score and what it was read from (for :func:`explain_free`)."""

    score: FreeScore
    parsed: FreeParse
    steps: StepJudgement
    label_sentence: str | None


# the records from their fields in declaration order, without the keyword __init__'s cost
_free_score = builder(FreeScore)
_free_judgement = builder(FreeJudgement)


@lru_cache(maxsize=65536)
def _gold_keys(units: tuple[str, ...], support: tuple[int, ...]) -> frozenset[str]:
    """The gold support's unit texts, whitespace-normalised as :func:`unit_index`'s keys (cached per problem)."""
    return frozenset(" ".join(units[i].split()) for i in support)


def judge_free(problem: Problem, generation: object, spec: DatasetSpec, mode: str = "strict") -> FreeJudgement:
    """Score ``generation`` against ``problem`` (see the module docstring); any input is accepted."""
    return _free_judgement(*_judge(problem, generation, spec, mode))


def score_free(problem: Problem, generation: object, spec: DatasetSpec, mode: str = "strict") -> FreeScore:
    """The :class:`FreeScore` of ``generation`` (:func:`judge_free` without its evidence)."""
    return _judge(problem, generation, spec, mode)[0]


def _judge(problem: Problem, generation: object, spec: DatasetSpec,
           mode: str) -> tuple[FreeScore, FreeParse, StepJudgement, str | None]:
    """The fields of :func:`judge_free`'s :class:`FreeJudgement`."""
    if mode not in FREE_MODES:
        raise TracekdError(f"free-form tasks are scored by one rule set; scoring mode '{mode}' does not apply "
                           f"(choose {', '.join(FREE_MODES)})")
    parsed = parse_free(generation)
    answer = spec.score_answer(problem, parsed.answer or "", "strict")
    steps = judge_steps(problem.units, problem.question, parsed.reasoning)
    label, sentence = judge_label(spec, parsed.reasoning)
    cls_ok = None if not spec.label_phrases else label is not None and label == problem.label
    index = unit_index(problem.units, problem.question)
    gold = _gold_keys(problem.units, problem.support)
    cited = {index.keys[c.key] for c in steps.citations}
    ret_ok = cited == gold
    p, r, f1 = precision_recall_f1(len(cited & gold), len(cited), len(gold))
    grounded = None
    if gold_answer_in_units(problem):
        grounded = bool(answer.items) and bool(steps.cited)
        if grounded:
            cited_text = " ".join(map(normalize_answer, map(problem.units.__getitem__, steps.cited)))
            grounded = all(item in cited_text for item in answer.items)
    score = _free_score(parsed.answer is not None, True, cls_ok, ret_ok, p, r, f1,
                        ret_ok if cls_ok is None else ret_ok and cls_ok, answer.correct, answer.f1, grounded, label,
                        steps.cited, 0, answer.items, steps.hallucinated)
    return score, parsed, steps, sentence


def _verdict(ok: bool | None) -> str:
    return "not scored" if ok is None else "correct" if ok else "wrong"


def _quote(text: str, limit: int = 160) -> str:
    return json.dumps(text if len(text) <= limit else text[:limit - 1] + "\u2026", ensure_ascii=False)


def explain_free(problem: Problem, judged: FreeJudgement, spec: DatasetSpec) -> list[tuple[str, str]]:
    """Why each step of a free-form generation was judged as it was: ``(step, reason)`` rows for the report's
    sample browser (the same steps as :func:`tracekd_ext.scoring.explain` rows, plus ``hallucinated``)."""
    s, parsed, steps = judged.score, judged.parsed, judged.steps
    where = "the think block" if parsed.has_think else "the text before the final answer"
    if parsed.answer is None:
        fmt = ("no final answer: the think block never closes" if parsed.has_think and not parsed.think_closed
               else "no final answer (no 'Answer:' line, \\boxed{} or 'the answer is' phrase)")
    else:
        source = "an Answer: line" if parsed.answer_source == "line" else f"a {parsed.answer_source}"
        fmt = f"final answer from {source}"
    rows = [("format", f"{fmt}; reasoning = {where} ({len(parsed.reasoning)} characters)")]
    if s.cls_correct is None:
        rows.append(("CLS", f"not scored: {spec.name} declares no phrases that name its labels"))
    elif s.pred_label is None:
        rows.append(("CLS", f"no sentence names a label {ARROW} wrong"))
    else:
        rows.append(("CLS", f"{_quote(judged.label_sentence or '')} names {json.dumps(s.pred_label)} vs gold "
                            f"{json.dumps(problem.label)} {ARROW} {_verdict(s.cls_correct)}"))
    index = unit_index(problem.units, problem.question)
    stated = "; ".join(f"{list(index.indices[c.key])} by {_quote(sentence_text(parsed.reasoning, c.sentence))}"
                       for c in steps.citations)
    ir = f"states units {list(s.cited)}" + (f" ({stated})" if stated else "")
    ir += f" vs gold support {list(problem.support)}" + support_difference(problem.support, s.cited)
    ir += f" (P {s.ret_precision:.3g}, R {s.ret_recall:.3g}, F1 {s.ret_f1:.3g}) {ARROW} {_verdict(s.ret_correct)}"
    rows.append(("IR", ir))
    rows.append(("trace", f"right when every scored step is right {ARROW} {_verdict(s.trace_correct)}"))
    rows.append(("answer", answer_reason(s.answer_items, problem.answers, s.answer_correct, s.answer_f1)))
    if s.grounded is None:
        rows.append(("grounded", "n/a: the gold answer does not occur in the gold units"))
    else:
        rows.append(("grounded", "yes: every answer item occurs in the units the reasoning states" if s.grounded
                     else "no: an answer item is missing from the stated units (or nothing was stated or answered)"))
    if s.hallucinated is None:
        rows.append(("hallucinated", "n/a: no unit carries a date"))
    elif s.hallucinated:
        rows.append(("hallucinated", f"yes: no unit holds {quoted(list(steps.invented[:3]))}"))
    else:
        rows.append(("hallucinated", "no: every dated statement matches a unit it names"))
    return rows
