"""The report's figures: step-vs-answer confusion matrices (one panel per run x task, like the paper)
and answer accuracy per run x task with 95% CI whiskers.

Built with matplotlib's object API (``Figure`` + Agg canvas; pyplot's global state is never touched).
Colour-blind safe: cividis for the heatmaps, the Okabe-Ito palette for the bars, and every cell and
bar also carries its number. Every text is drawn literally (``text.parse_math`` off): a run label such as
``x=$\\bad{x}$`` is not parsed as mathtext.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tracekd_ext.report.runs import Run
from tracekd_ext.report.tables import task_order
from tracekd_ext.stats import CI_LABEL

OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
HATCHES = ("", "//", "..", "xx")
HEATMAP_CMAP = "cividis"
STEP_TITLES = {"trace": "trace (CLS and IR)", "cls": "classification (CLS)", "ret": "retrieval (IR)"}
STEP_AXIS = {"trace": "trace", "cls": "CLS step", "ret": "IR step"}
DPI = 100
# confusion grids, in inches: the figure's left margin (row labels, y ticks) and top margin (title, column
# labels), each panel's cell, the square heatmap inside it and the space below it (x ticks)
LEFT, TOP, TOP_WRAPPED = 1.25, 0.9, 0.55
CELL = (2.35, 2.75)
PANEL_AXES = 1.9
PANEL_BOTTOM = 0.45
MAX_WRAPPED_COLUMNS = 4


@dataclass(frozen=True)
class Panel:
    """One run x task panel: its 2x2 statistics for a step (``None``: the run lacks the task)."""

    run: str
    task: str
    pair: dict[str, Any] | None


def confusion_panels(runs: Sequence[Run], step: str) -> tuple[list[str], list[str], list[Panel]]:
    """Row labels (runs), column labels (trace tasks) and the panels, row by row."""
    tasks = [task for task, kind in task_order(runs) if kind == "trace"]
    panels = [Panel(run.label, task, run.tasks[task].summary["pairs"][step] if task in run.tasks else None)
              for run in runs for task in tasks]
    return [run.label for run in runs], tasks, panels


def _cell_values(pair: dict[str, Any]) -> tuple[list[list[float]], list[list[str]]]:
    """Colour values (row shares, P(answer | step row)) and cell texts (count and row share)."""
    colours, texts = [], []
    for row in ([pair["tt"], pair["tf"]], [pair["ft"], pair["ff"]]):
        total = sum(row)
        colours.append([c / total if total else math.nan for c in row])
        texts.append([f"{c}\n({c / total:.0%})" if total else "0" for c in row])
    return colours, texts


def grid_shape(n_runs: int, n_tasks: int) -> tuple[int, int]:
    """Rows = runs and columns = tasks (the paper's layout); a single task wraps its runs into rows of 4."""
    if n_tasks == 1:
        cols = min(max(1, n_runs), MAX_WRAPPED_COLUMNS)
        return math.ceil(max(1, n_runs) / cols), cols
    return max(1, n_runs), max(1, n_tasks)


def _short(text: str, width: int = 26) -> str:
    return textwrap.fill(text, width, max_lines=2, placeholder="...")


def _draw_panel(ax, panel: Panel, cmap, *, title: str, x_ticks: bool, y_ticks: bool, y_label: str) -> None:
    """One 2x2 heatmap; tick labels only where the grid needs them (text is most of the drawing time)."""
    ax.set_title(title, fontsize=8)
    ax.set_xticks([0, 1], ["correct", "wrong"] if x_ticks else [], fontsize=8)
    ax.set_yticks([0, 1], ["correct", "wrong"] if y_ticks else [], fontsize=8)
    if x_ticks:
        ax.set_xlabel("answer", fontsize=8)
    if y_ticks:
        ax.set_ylabel(y_label, fontsize=8)
    if panel.pair is None:
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylim(1.5, -0.5)
        ax.text(0.5, 0.5, "task not run", ha="center", va="center", fontsize=8)
        return
    colours, texts = _cell_values(panel.pair)
    ax.imshow(colours, cmap=cmap, vmin=0.0, vmax=1.0)
    for r in range(2):
        for c in range(2):
            dark = math.isnan(colours[r][c]) or colours[r][c] < 0.5
            ax.text(c, r, texts[r][c], ha="center", va="center", fontsize=8, color="white" if dark else "black")


def confusion_figure(runs: Sequence[Run], step: str) -> Figure:
    """Heatmaps of ``step`` correctness (y) against answer correctness (x), each cell showing its count and
    its row share P(answer | step row), coloured by the row share: exactly one axes per run x trace task.
    Several tasks: rows = runs, columns = tasks, labelled at the edges; one task: the runs wrap into rows,
    each panel titled by its run. Fixed sizes in inches (no layout engine: fast on large grids)."""
    import matplotlib

    row_labels, tasks, panels = confusion_panels(runs, step)
    rows, cols = grid_shape(len(row_labels), len(tasks))
    wrapped = len(tasks) == 1
    top = TOP_WRAPPED if wrapped else TOP
    width, height = LEFT + cols * CELL[0] + 0.2, top + rows * CELL[1]
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    title = (f"{STEP_TITLES.get(step, step)} vs answer: counts (row share = P(answer | step row); colour: row share)"
             + (f" - {tasks[0]}" if wrapped else ""))
    fig.suptitle(textwrap.fill(title, max(30, int(width * 11))), fontsize=10, y=1 - 0.08 / height, va="top")
    if not panels:
        fig.text(0.5, 0.4, "no trace task in these runs", ha="center", va="center")
        return fig
    cmap = matplotlib.colormaps[HEATMAP_CMAP]
    y_label = STEP_AXIS.get(step, step)
    for k, panel in enumerate(panels):
        r, c = divmod(k, cols)
        x0, y0 = LEFT + c * CELL[0], height - top - (r + 1) * CELL[1] + PANEL_BOTTOM
        ax = fig.add_axes((x0 / width, y0 / height, PANEL_AXES / width, PANEL_AXES / height))
        n = "no items" if panel.pair is None else f"N = {panel.pair['n']}"
        _draw_panel(ax, panel, cmap, title=f"{_short(panel.run)}\n{n}" if wrapped else n,
                    x_ticks=k + cols >= len(panels), y_ticks=c == 0, y_label=y_label)
        if not wrapped and r == 0:
            fig.text((x0 + PANEL_AXES / 2) / width, (height - top + 0.05) / height, _short(panel.task),
                     ha="center", va="bottom", fontsize=9, weight="bold")
        if not wrapped and c == 0:
            fig.text(0.08 / width, (y0 + PANEL_AXES / 2) / height, _short(panel.run, 30), rotation=90,
                     ha="left", va="center", fontsize=9, weight="bold")
    return fig


def accuracy_points(runs: Sequence[Run]) -> tuple[list[str], list[str], dict[tuple[str, str], tuple[float, ...]]]:
    """Runs, tasks, and (mean, CI low, CI high) answer accuracy of each run x task that exists."""
    tasks = [task for task, _ in task_order(runs)]
    points = {}
    for run in runs:
        for task, result in run.tasks.items():
            metric = result.summary["metrics"]["answer_acc"]
            points[(run.label, task)] = (metric["mean"], metric["ci"][0], metric["ci"][1])
    return [run.label for run in runs], tasks, points


def _undefined(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def accuracy_figure(runs: Sequence[Run]) -> Figure:
    """Grouped bars: one group per task, one bar per run, 95% CI whiskers and the value on top."""
    labels, tasks, points = accuracy_points(runs)
    return grouped_accuracy_bars(labels, tasks, points, "Answer accuracy per run and task")


def grouped_accuracy_bars(labels: Sequence[str], groups: Sequence[str],
                          points: dict[tuple[str, str], tuple[float, float, float]], title: str) -> Figure:
    """Accuracy as grouped bars: one group per entry of ``groups``, one bar per series of ``labels`` (colour-blind
    safe colours), ``points[(label, group)] = (mean, low, high)`` (missing pairs: no bar), 95% CI whiskers where
    the interval is defined and the value on top. matplotlib's object API: pyplot's state is never touched."""
    width = 0.8 / max(1, len(labels))
    fig = Figure(figsize=(max(5.0, 1.0 + len(groups) * (0.5 + 0.45 * len(labels))), 4.2), dpi=DPI,
                 layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for i, label in enumerate(labels):
        xs, means, errors = [], [], [[], []]
        for j, group in enumerate(groups):
            if (label, group) not in points:
                continue
            mean, low, high = points[(label, group)]
            mean = 0.0 if _undefined(mean) else mean
            has_ci = not (_undefined(low) or _undefined(high))
            xs.append(j - 0.4 + width * (i + 0.5))
            means.append(mean)
            errors[0].append(max(0.0, mean - low) if has_ci else 0.0)
            errors[1].append(max(0.0, high - mean) if has_ci else 0.0)
        bars = ax.bar(xs, means, width * 0.92, yerr=errors, capsize=3, label=label,
                      color=OKABE_ITO[i % len(OKABE_ITO)], hatch=HATCHES[(i // len(OKABE_ITO)) % len(HATCHES)],
                      edgecolor="black", linewidth=0.5, error_kw={"elinewidth": 1, "ecolor": "black"})
        ax.bar_label(bars, labels=[f"{m:.2f}" for m in means], padding=2, fontsize=7)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel(f"answer accuracy ({CI_LABEL} CI)")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    if labels:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def report_figures(runs: Sequence[Run]) -> dict[str, tuple[str, bytes]]:
    """File name -> (caption, PNG bytes) of every figure of a report; runs with intervention samples only
    are left out (the Interventions section has its own chart)."""
    with rc_context({"text.parse_math": False, "text.usetex": False}):
        return _report_figures(runs)


def _report_figures(runs: Sequence[Run]) -> dict[str, tuple[str, bytes]]:
    figures: dict[str, tuple[str, bytes]] = {}
    runs = [run for run in runs if run.tasks]
    if not runs:
        return figures
    has_trace = any(kind == "trace" for _, kind in task_order(runs))
    if has_trace:
        for step in ("trace", "cls", "ret"):
            caption = (f"{STEP_TITLES[step]} correctness (rows) vs answer correctness (columns): counts and row "
                       "shares P(answer | step row); one panel per run x task")
            figures[f"confusion_{step}.png"] = (caption, png_bytes(confusion_figure(runs, step)))
    figures["answer_accuracy.png"] = (f"answer accuracy per run x task with {CI_LABEL} Wilson intervals",
                                      png_bytes(accuracy_figure(runs)))
    return figures
