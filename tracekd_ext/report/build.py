"""``tracekd report`` end to end: load and re-score the runs, then write report.md, report.json, the
PNG figures and report.html into one folder (all together or none, through ``tracekd_ext.files.outputs``). Runs with
intervention samples add the Interventions section (``interventions.report_section``).

    from tracekd_ext.report import build_report
    files = build_report(["runs/qwen", "runs/llama"], "report", names={"runs/qwen": "Qwen3"})
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracekd_ext.files.outputs import Outputs
from tracekd_ext.interventions.report_section import ANCHOR as INTERVENTIONS_ANCHOR
from tracekd_ext.interventions.report_section import FIGURE as INTERVENTIONS_FIGURE
from tracekd_ext.interventions.report_section import TITLE as INTERVENTIONS_TITLE
from tracekd_ext.interventions.report_section import (
    intervention_tasks,
    interventions_result,
    section_figure,
    section_html,
    section_markdown,
)
from tracekd_ext.json_safe import json_safe
from tracekd_ext.report.browser_data import DEFAULT_BROWSER_SAMPLES, payload_json
from tracekd_ext.report.headline import headline_lines
from tracekd_ext.report.html_page import report_html
from tracekd_ext.report.markdown import report_markdown
from tracekd_ext.report.plots import report_figures
from tracekd_ext.report.runs import Run, check_scoring, load_runs
from tracekd_ext.report.sources import READ_AS_SAMPLES, PredictionsOptions
from tracekd_ext.report.tables import runs_table, sections, task_order

DEFAULT_TITLE = "tracekd report"
FIXED_FILES = ("report.md", "report.json", "report.html")


@dataclass(frozen=True)
class ReportFiles:
    """What a report wrote, and how many runs and samples it covers."""

    markdown: Path
    html: Path
    json: Path
    figures: tuple[Path, ...]
    runs: int
    samples: int
    seconds: float
    headline: tuple[str, ...] = ()


def report_json(runs: Sequence[Run], scoring: str, interventions: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every summary behind the report (the same structure ``tracekd rescore --output`` writes per task, and
    for intervention samples under ``interventions``: null when there are none)."""
    return json_safe({"scoring": scoring, "runs": [
        {"label": run.label, "source": run.source, "tasks": {t: r.summary for t, r in run.tasks.items()},
         "pooled": run.pooled} for run in runs], "interventions": interventions})


def write_report(runs: Sequence[Run], out_dir: str | Path, *, title: str = DEFAULT_TITLE,
                 started: float | None = None, outputs: Outputs | None = None,
                 browser_samples: int | None = DEFAULT_BROWSER_SAMPLES) -> ReportFiles:
    """Write every report file for already loaded runs (staged in ``outputs`` when given; the caller
    commits them), all together or none; ``browser_samples`` is the bound the runs were loaded with."""
    if outputs is None:
        with Outputs() as outputs:
            return write_report(runs, out_dir, title=title, started=started, outputs=outputs,
                                browser_samples=browser_samples)
    started = time.perf_counter() if started is None else started
    out = outputs.folder(out_dir)
    scoring = check_scoring(runs)
    n_samples = (sum(r.summary["n"] for run in runs for r in run.tasks.values())
                 + sum(len(part.items) for run in runs for part in run.interventions.values()))
    subtitle = (f"{scoring} scoring; {len(runs)} run(s), {n_samples} samples; "
                f"re-scored from the saved generations with tracekd {_version()}.")
    table_of_runs, task_sections = runs_table(runs), sections(runs)
    figures = report_figures(runs)
    figure_paths = []
    for name, (_, png) in figures.items():
        figure_paths.append(outputs.write(out / name, png))
    interventions = interventions_result(runs)
    extra_markdown, extra_html = [], []
    if interventions is not None:
        png = section_figure(interventions)
        figure_paths.append(outputs.write(out / INTERVENTIONS_FIGURE, png))
        extra_markdown.append(section_markdown(interventions))
        extra_html.append((INTERVENTIONS_ANCHOR, INTERVENTIONS_TITLE, section_html(interventions, png)))
    headline = headline_lines(runs, [f"{r['model']}, interventions on {r['dataset']}: {r['reading']}"
                                     for r in (interventions or {"runs": []})["runs"]])
    markdown = out / "report.md"
    outputs.write(markdown, report_markdown(title=title, subtitle=subtitle, headline=headline,
                                            runs_table=table_of_runs, sections=task_sections,
                                            figures={n: caption for n, (caption, _) in figures.items()},
                                            extra_sections=extra_markdown))
    summary_json = out / "report.json"
    outputs.write(summary_json, json.dumps(report_json(runs, scoring, interventions), ensure_ascii=False,
                                           indent=2) + "\n")
    html = out / "report.html"
    tasks = [t for t, _ in task_order(runs)] + intervention_tasks(runs)
    browser = payload_json([run.browser_run() for run in runs], tasks, scoring, browser_samples)
    page = report_html(title=title, subtitle=subtitle, headline=headline, runs_table=table_of_runs,
                       sections=task_sections, figures=figures, payload_json=browser, extra_sections=extra_html)
    outputs.write(html, page)
    return ReportFiles(markdown, html, summary_json, tuple(figure_paths), len(runs), n_samples,
                       time.perf_counter() - started, tuple(headline))


def build_report(arguments: Sequence[str], out_dir: str | Path, *, scoring: str | None = None,
                 names: dict[str, str] | None = None, title: str = DEFAULT_TITLE, jobs: int = 1,
                 progress: bool | None = None, reading: PredictionsOptions = READ_AS_SAMPLES,
                 browser_samples: int | None = DEFAULT_BROWSER_SAMPLES) -> ReportFiles:
    """Load, re-score and compare the runs named by ``arguments``; write the report into ``out_dir``.
    ``jobs`` > 1 scores large samples files in worker processes (see ``runs.score_files``); ``reading``
    says how predictions JSONL inputs are read; ``browser_samples`` bounds the sample browser per samples
    file and 2x2 cell (None: every sample; the tables and figures always use every sample)."""
    started = time.perf_counter()
    progress = sys.stderr.isatty() if progress is None else progress
    with Outputs(inputs=[a for a in arguments if Path(a).is_file()]) as outputs:
        out = outputs.folder(out_dir)  # checked before the runs are loaded
        outputs.claim(*(out / name for name in FIXED_FILES))
        runs = load_runs(arguments, scoring=scoring, names=names, jobs=jobs, progress=progress, reading=reading,
                         browser_samples=browser_samples)
        return write_report(runs, out, title=title, started=started, outputs=outputs, browser_samples=browser_samples)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tracekd")
    except PackageNotFoundError:
        return "(source)"
