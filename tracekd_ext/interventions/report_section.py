"""The report's Interventions section: the paired analysis of every run's intervention samples (the same
:func:`tracekd_ext.interventions.analysis.analyze_items` that ``tracekd rescore`` runs, one result per run
label and dataset), the same run's free-generation trace task beside it (correlational numbers), the tables
and readings of :mod:`tracekd_ext.interventions.tables`, and its grouped bar chart (accuracy per condition per
run with 95% Wilson intervals)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from tracekd_ext.interventions.analysis import analyze_items, correlational_numbers
from tracekd_ext.interventions.conditions import CONDITIONS
from tracekd_ext.interventions.tables import COLUMNS, correlational_line, markdown, run_rows, run_title
from tracekd_ext.report.runs import Run, TaskResult
from tracekd_ext.stats import CI_LABEL
from tracekd_ext.task_registry import TASKS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ANCHOR = "interventions"
TITLE = "Interventions"
FIGURE = "interventions_accuracy.png"
CAPTION = f"answer accuracy per forced-trace condition and run (model / dataset) with {CI_LABEL} Wilson intervals"
INTRO = (
    "Answers written after a forced trace (docs/interventions.md), paired by item within each run and dataset: "
    f"answer_acc per condition with a {CI_LABEL} Wilson interval; diff vs gold: P(right under the condition) - "
    f"P(right under gold) with Newcombe's paired {CI_LABEL} interval and the exact McNemar p; answer_changed: share "
    "of answers that differ from the one under gold; follow_rate: share of answers that are what the forced units "
    "support (n: items where that is defined); not perturbed: items the corruption could not be applied to. "
    "Correlational: the same run's free-generation trace task on the dataset (phi, P(answer | trace right) and "
    "P(answer | trace wrong)), when the run has one."
)


def intervention_tasks(runs: Sequence[Run]) -> list[str]:
    """Intervention task names in order of first appearance over the runs."""
    return list(dict.fromkeys(task for run in runs for task in run.interventions))


def _dataset(result: TaskResult) -> str | None:
    if result.items is not None and result.items.pool_labels:
        return result.items.pool_labels[0].split(":", 1)[0]
    return TASKS.get(result.task.split("#", 1)[0], (None, None))[0]


def correlational_by_run(runs: Sequence[Run]) -> dict[tuple[str, str], dict[str, Any]]:
    """(run label, dataset) -> the correlational numbers of that run's trace task on the dataset."""
    out = {}
    for run in runs:
        for result in run.tasks.values():
            dataset = _dataset(result)
            if result.kind == "trace" and dataset is not None:
                out[(run.label, dataset)] = correlational_numbers(result.summary)
    return out


def interventions_result(runs: Sequence[Run]) -> dict[str, Any] | None:
    """The paired analysis of every run's intervention samples (``None`` when no run has any); the same
    structure as ``tracekd rescore --output`` on intervention samples, with the run labels as models."""
    items = [item for run in runs for part in run.interventions.values() for item in part.items]
    if not items:
        return None
    return analyze_items(items, correlational_by_run(runs))


def section_markdown(result: dict[str, Any]) -> str:
    """The section of report.md: the tables and readings exactly as ``tracekd rescore`` prints them, and the
    chart (``FIGURE``, next to report.md)."""
    return "\n\n".join([f"## {TITLE}", INTRO, markdown(result), f"![{FIGURE}]({FIGURE})\n\n*{CAPTION}.*"])


def section_html(result: dict[str, Any], png: bytes) -> str:
    """The section body of report.html (its heading is added by the page): tables, readings and the chart."""
    from tracekd_ext.report.html_page import figure_html, table_html
    from tracekd_ext.report.tables import Table

    parts = [f"<p class=\"note\">{escape(INTRO)}</p>"]
    for run in result["runs"]:
        parts.append(table_html(Table(run_title(run), COLUMNS, run_rows(run))))
        corr = correlational_line(run)
        if corr:
            parts.append(f"<p class=\"correlational\">{escape(corr)}</p>")
        parts.append(f"<p class=\"reading\">Reading: {escape(run['reading'])}.</p>")
    parts.append(figure_html(FIGURE, CAPTION, png))
    return "\n".join(parts)


def conditions_figure(result: dict[str, Any]) -> Figure:
    """Grouped bars: accuracy per condition (groups) per run (bars, model / dataset), with Wilson 95% CIs
    and the value on each bar (matplotlib's object API: pyplot's global state is never touched)."""
    from tracekd_ext.report.plots import grouped_accuracy_bars

    runs = result["runs"]
    conditions = [c for c in CONDITIONS if any(c in r["conditions"] for r in runs)]
    labels = [f"{run['model']} / {run['dataset']}" for run in runs]
    points = {(label, name): (c["answer_acc"], *c["answer_acc_ci"])
              for label, run in zip(labels, runs, strict=True) for name, c in run["conditions"].items()}
    return grouped_accuracy_bars(labels, conditions, points, "Answer accuracy under forced traces")


def section_figure(result: dict[str, Any]) -> bytes:
    """The grouped bar chart as PNG; run labels are drawn literally (no mathtext: ``$x$`` stays ``$x$``)."""
    from matplotlib import rc_context

    from tracekd_ext.report.plots import png_bytes

    with rc_context({"text.parse_math": False, "text.usetex": False}):
        return png_bytes(conditions_figure(result))
