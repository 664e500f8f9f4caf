"""Scoring one saved generation for a task of any kind: trace and answer-only tasks through the trace parser and
:func:`tracekd_ext.scoring.score`, free-form tasks through :mod:`tracekd_ext.free_score`. lm-eval's
``process_results``, ``tracekd rescore`` and the report's sample browser all call these."""

from __future__ import annotations

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.free_score import explain_free, judge_free
from tracekd_ext.record import Problem
from tracekd_ext.scoring import KINDS, SampleScore, explain, score
from tracekd_ext.trace_parse import parse

FREE = "free"
TASK_KINDS = (*KINDS, FREE)  # the kinds of task whose saved generations are scored here


def score_generation(problem: Problem, generation: object, spec: DatasetSpec, mode: str, kind: str) -> SampleScore:
    """The score of ``generation`` for a task of ``kind`` (``trace``, ``direct`` or ``free``) in ``mode``."""
    if kind == FREE:
        return judge_free(problem, generation, spec, mode).score
    return score(problem, parse(generation), spec, mode, kind)


def explain_generation(problem: Problem, generation: str, s: SampleScore, spec: DatasetSpec, mode: str,
                       kind: str) -> list[tuple[str, str]]:
    """Why ``s`` (the :func:`score_generation` of ``generation``) judged each step as it did."""
    if kind == FREE:
        return explain_free(problem, judge_free(problem, generation, spec, mode), spec)
    return explain(problem, parse(generation), s, spec, mode, kind)
