"""The report's opening: per run, in one sentence each, answer and trace accuracy, answer accuracy when the
trace is right vs wrong, and phi with what it means; then, when a run had interventions, their result.

Every number is read from the rescore summary (the pooled one where a run has several trace tasks) and
formatted with ``fmt``, so it equals the tables below it and ``tracekd rescore``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tracekd_ext.formatting import fmt
from tracekd_ext.report.runs import Run
from tracekd_ext.rescore import is_stepped

HEADLINE_HEADING = "## Headline"
# |phi| bands of the usual reading of an association's size (Cohen 1988: 0.1 small, 0.3 medium, 0.5 large)
PHI_BANDS = ((0.1, "negligible"), (0.3, "weak"), (0.5, "moderate"), (math.inf, "strong"))


def headline_summary(run: Run) -> dict[str, Any] | None:
    """The summary a run is summed up by: pooled over its stepped (trace and free-form) tasks, else its only
    such task's."""
    stepped = [r for r in run.tasks.values() if is_stepped(r.kind)]
    if len(stepped) > 1 and run.pooled is not None:
        return run.pooled
    return stepped[0].summary if stepped else None


def phi_reading(pair: dict[str, Any]) -> str:
    """phi, its size in words, and whether independence of trace and answer correctness is rejected at 5%
    (chi-square >= 3.841); where an expected count is under 5, also Fisher's exact p, the one to read there."""
    value = pair["phi"]
    if value is None or math.isnan(value):
        return ("phi n/a: every item has the same trace outcome or the same answer outcome, so trace and "
                "answer correctness cannot be related")
    size = next(word for bound, word in PHI_BANDS if abs(value) < bound)
    direction = "" if size == "negligible" else (" positive" if value > 0 else " negative")
    verdict = "independence rejected at 5%" if pair["independence_rejected_5pct"] else \
        "independence not rejected at 5%"
    fisher_note = "" if pair["phi_ci_reliable"] else \
        f"; an expected count is under 5, so read Fisher's exact p = {fmt(pair['fisher_p'])}"
    return (f"phi = {fmt(value)} [{fmt(pair['phi_ci'][0])}, {fmt(pair['phi_ci'][1])}]: a {size}{direction} "
            f"association ({verdict}, chi-square p = {fmt(pair['chi2_p'])}{fisher_note})")


def run_sentence(run: Run) -> str | None:
    """One run in one sentence; ``None`` for a run without trace tasks."""
    summary = headline_summary(run)
    if summary is None:
        return None
    metrics, pair = summary["metrics"], summary["pairs"]["trace"]
    return (f"{run.label} (n = {summary['n']}): answer accuracy {fmt(metrics['answer_acc']['mean'])}, "
            f"trace accuracy {fmt(metrics['trace_acc']['mean'])}, parse rate {fmt(metrics['parse_ok']['mean'])}; "
            f"P(answer | trace right) = {fmt(pair['p_answer_given_step'])} "
            f"vs P(answer | trace wrong) = {fmt(pair['p_answer_given_not_step'])}; {phi_reading(pair)}.")


def headline_lines(runs: Sequence[Run], interventions: Sequence[str] = ()) -> list[str]:
    """The headline's sentences: one per run with trace tasks, then the intervention results (one sentence
    each, written by the interventions analysis)."""
    return [s for s in (run_sentence(run) for run in runs) if s is not None] + list(interventions)
