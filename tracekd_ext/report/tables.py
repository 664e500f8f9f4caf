"""The report's tables and test readings, as plain cells that render to Markdown (report.md) and HTML.

Every number is read from the rescore summaries (``tracekd_ext.metrics.summarize``) and formatted with
``tracekd_ext.formatting.fmt``, so a cell equals ``tracekd rescore`` on the same samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tracekd_ext.formatting import fmt
from tracekd_ext.metric_table import report_columns
from tracekd_ext.report.runs import Run
from tracekd_ext.stats import CHI2_CRITICAL_5PCT, CI_LABEL

# metric columns of the task tables: the metric table's report columns (summary metric names)
TRACE_METRICS = tuple(m.name for m in report_columns("trace"))
DIRECT_METRICS = tuple(m.name for m in report_columns("direct"))
TRACE_HEADER = ("run", "n", *(m.column for m in report_columns("trace")), "TT/N", "P(answer | trace)",
                "P(answer | not trace)", f"phi [{CI_LABEL} CI]", "chi-square", "p", "Fisher p")
DIRECT_HEADER = ("run", "n", *(m.column for m in report_columns("direct")))
PAIR_HEADER = ("run", "step", "TT", "TF", "FT", "FF", "N", "TT/N", "P(answer | step)", "P(answer | not step)",
               f"phi [{CI_LABEL} CI]", "chi-square", "p", "Yates chi-square", "Yates p", "Fisher p")

COLUMN_GUIDE = (
    "n: items; parse_ok: share with a complete trace format; cls, ret, trace, answer: accuracy of the "
    f"classification step, the retrieval step, both steps, and the answer, with {CI_LABEL} Wilson intervals; grounded: "
    "share of answers found in the units the model itself cited (items whose gold answer is in the gold units); "
    "TT/N: share of items with a correct step and a correct answer; P(answer | step) and P(answer | not step): "
    "answer accuracy when the step is right or wrong; phi: association of step and answer correctness with a "
    f"{CI_LABEL} interval from the exact conditional (Fisher) test, marked * when an expected cell count is below "
    f"5; F1 means: {CI_LABEL} percentile bootstrap; chi-square: Pearson's test of independence (df 1, no continuity "
    "correction), p its p-value; Yates: with continuity correction; Fisher p: two-sided exact test. n/a: "
    "undefined (no items, or a 2x2 table with an empty row or column)."
)


@dataclass(frozen=True)
class Table:
    """A titled table of formatted cells."""

    title: str
    header: tuple[str, ...]
    rows: list[list[str]]

    def markdown(self) -> str:
        lines = [f"**{self.title}**", "", _md_row(self.header), _md_row(["---"] * len(self.header))]
        lines += [_md_row(row) for row in self.rows]
        return "\n".join(lines)


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def with_ci(value: Any, ci: Sequence[Any]) -> str:
    """``mean [low, high]``; just ``n/a`` when the value is undefined."""
    if fmt(value) == "n/a":
        return "n/a"
    return f"{fmt(value)} [{fmt(ci[0])}, {fmt(ci[1])}]"


def metric_cell(summary: dict[str, Any], name: str) -> str:
    metric = summary["metrics"].get(name)
    return "n/a" if metric is None else with_ci(metric["mean"], metric["ci"])


def phi_cell(pair: dict[str, Any]) -> str:
    """phi [CI], with ``*`` when the interval is flagged unreliable (an expected cell count below 5)."""
    cell = with_ci(pair["phi"], pair["phi_ci"])
    return cell if cell == "n/a" or pair.get("phi_ci_reliable", True) else f"{cell}*"


def pair_cells(pair: dict[str, Any]) -> list[str]:
    """TT/N, P(answer | step), P(answer | not step), phi [CI], chi-square, p, Fisher p."""
    return [fmt(pair["tt_share"]), fmt(pair["p_answer_given_step"]), fmt(pair["p_answer_given_not_step"]),
            phi_cell(pair), fmt(pair["chi2"]), fmt(pair["chi2_p"]), fmt(pair["fisher_p"])]


def summary_row(label: str, summary: dict[str, Any], kind: str) -> list[str]:
    """One run's row of a task table (or of the pooled table)."""
    if kind == "direct":
        return [label, fmt(summary["n"]), *(metric_cell(summary, m) for m in DIRECT_METRICS)]
    return [label, fmt(summary["n"]), *(metric_cell(summary, m) for m in TRACE_METRICS),
            *pair_cells(summary["pairs"]["trace"])]


def pair_rows(label: str, summary: dict[str, Any]) -> list[list[str]]:
    """The three step-vs-answer 2x2 tables of one run, one row each."""
    rows = []
    for step, pair in summary["pairs"].items():
        rows.append([label, step, *(fmt(pair[c]) for c in ("tt", "tf", "ft", "ff", "n")),
                     fmt(pair["tt_share"]), fmt(pair["p_answer_given_step"]), fmt(pair["p_answer_given_not_step"]),
                     phi_cell(pair), fmt(pair["chi2"]), fmt(pair["chi2_p"]),
                     fmt(pair["chi2_yates"]), fmt(pair["chi2_yates_p"]), fmt(pair["fisher_p"])])
    return rows


def _is_nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def reading(label: str, step: str, pair: dict[str, Any]) -> str:
    """One line saying what the independence test of ``step`` and answer correctness shows."""
    head = f"{label}, {step} vs answer:"
    if _is_nan(pair["chi2"]):
        return (f"{head} test undefined (N = {pair['n']}; a row or column of the 2x2 table is empty, so every item "
                f"has the same {step} or answer outcome).")
    rejected = pair["chi2"] >= CHI2_CRITICAL_5PCT
    verdict = "independence rejected at 5%" if rejected else "independence not rejected at 5%"
    comparison = ">=" if rejected else "<"
    same = (pair["fisher_p"] < 0.05) == rejected
    fisher = "" if _is_nan(pair["fisher_p"]) else (
        f"; Fisher p = {fmt(pair['fisher_p'])}, {'same' if same else 'opposite'} conclusion")
    return (f"{head} {verdict} (chi-square = {fmt(pair['chi2'])} {comparison} {CHI2_CRITICAL_5PCT:.3f}, "
            f"p = {fmt(pair['chi2_p'])}, phi = {fmt(pair['phi'])}, N = {pair['n']}{fisher}).")


def task_order(runs: Sequence[Run]) -> list[tuple[str, str]]:
    """``(task, kind)`` in order of first appearance over the runs."""
    seen: dict[str, str] = {}
    for run in runs:
        for name, result in run.tasks.items():
            seen.setdefault(name, result.kind)
    return list(seen.items())


@dataclass(frozen=True)
class Section:
    """One task (or the pooled view): its main table, its step-vs-answer table and the test readings."""

    title: str
    tables: list[Table]
    readings: list[str]


def task_section(runs: Sequence[Run], task: str, kind: str) -> Section:
    with_task = [(run.label, run.tasks[task].summary) for run in runs if task in run.tasks]
    header = DIRECT_HEADER if kind == "direct" else TRACE_HEADER
    main = Table(f"{task}: accuracy ({CI_LABEL} CI) and trace vs answer", header,
                 [summary_row(label, s, kind) for label, s in with_task])
    if kind == "direct":
        return Section(task, [main], [])
    pairs = Table(f"{task}: each step vs answer (2x2 counts and tests)", PAIR_HEADER,
                  [row for label, s in with_task for row in pair_rows(label, s)])
    readings = [reading(label, step, pair) for label, s in with_task for step, pair in s["pairs"].items()]
    return Section(task, [main, pairs], readings)


def pooled_section(runs: Sequence[Run]) -> Section | None:
    pooled = [(run.label, run.pooled) for run in runs if run.pooled is not None]
    if not pooled:
        return None
    main = Table(f"all trace and free-form tasks pooled: accuracy ({CI_LABEL} CI) and trace vs answer", TRACE_HEADER,
                 [summary_row(label, s, "trace") for label, s in pooled])
    pairs = Table("all trace and free-form tasks pooled: each step vs answer", PAIR_HEADER,
                  [row for label, s in pooled for row in pair_rows(label, s)])
    readings = [reading(label, step, pair) for label, s in pooled for step, pair in s["pairs"].items()]
    return Section("Pooled over trace and free-form tasks", [main, pairs], readings)


def runs_table(runs: Sequence[Run]) -> Table:
    """Which runs the report compares, where they came from, and their items per task."""
    rows = [[run.label, run.source, ", ".join([*(f"{t} ({r.summary['n']})" for t, r in run.tasks.items()),
                                              *(f"{t} ({len(p.items)})" for t, p in run.interventions.items())]),
             "yes" if all(r.items is not None for r in run.tasks.values()) else "no (aggregates only)"]
            for run in runs]
    return Table("runs", ("run", "source", "tasks (items)", "in sample browser"), rows)


def sections(runs: Sequence[Run]) -> list[Section]:
    """Every task's section in order, then the pooled one."""
    out = [task_section(runs, task, kind) for task, kind in task_order(runs)]
    pooled = pooled_section(runs)
    return out + ([pooled] if pooled is not None else [])
