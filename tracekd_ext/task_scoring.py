"""Scoring one saved generation for a task of any kind: trace and answer-only tasks through the trace parser and
:func:`tracekd_ext.scoring.score`, free-form tasks through :mod:`tracekd_ext.free_form.score`. lm-eval's
``process_results``, ``tracekd rescore`` and the report all call it (the report's explanations of the same
judgements: :mod:`tracekd_ext.report.explain`)."""

from __future__ import annotations

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.free_form.score import score_free
from tracekd_ext.record import Problem
from tracekd_ext.scoring import KINDS, SampleScore, score
from tracekd_ext.trace_parse import parse

FREE = "free"
TASK_KINDS = (*KINDS, FREE)  # the kinds of task whose saved generations are scored here


def score_generation(problem: Problem, generation: object, spec: DatasetSpec, mode: str, kind: str) -> SampleScore:
    """The score of ``generation`` for a task of ``kind`` (``trace``, ``direct`` or ``free``) in ``mode``."""
    if kind == FREE:
        return score_free(problem, generation, spec, mode)
    return score(problem, parse(generation), spec, mode, kind)
