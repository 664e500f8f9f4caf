"""``tracekd report`` end to end: load and re-score the runs, then write report.md, report.json, the
PNG figures and report.html into one folder (each file written atomically)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracekd_ext.json_safe import json_safe
from tracekd_ext.report.browser_data import payload_json
from tracekd_ext.report.headline import headline_lines
from tracekd_ext.report.html_page import report_html
from tracekd_ext.report.markdown import report_markdown
from tracekd_ext.report.plots import report_figures
from tracekd_ext.report.runs import Run, check_scoring, load_runs
from tracekd_ext.report.tables import runs_table, sections, task_order

DEFAULT_TITLE = "tracekd report"


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


def report_json(runs: Sequence[Run], scoring: str) -> dict[str, Any]:
    """Every summary behind the report (the same structure ``tracekd rescore --output`` writes per task)."""
    return json_safe({"scoring": scoring, "runs": [
        {"label": run.label, "source": run.source, "tasks": {t: r.summary for t, r in run.tasks.items()},
         "pooled": run.pooled} for run in runs]})


def write_file_atomic(path: Path, data: bytes | str) -> None:
    """Write through a temporary file and a rename, like ``jsonl.write_atomic``, but with the usual
    permissions (umask), so that a report folder can be shared or served as it is."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_report(runs: Sequence[Run], out_dir: str | Path, *, title: str = DEFAULT_TITLE,
                 started: float | None = None, interventions: Sequence[str] = ()) -> ReportFiles:
    """Write every report file for already loaded runs; ``interventions``: one sentence per intervention
    result, for the headline."""
    started = time.perf_counter() if started is None else started
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scoring = check_scoring(runs)
    n_samples = sum(r.summary["n"] for run in runs for r in run.tasks.values())
    subtitle = (f"{scoring} scoring; {len(runs)} run(s), {n_samples} samples; "
                f"re-scored from the saved generations with tracekd {_version()}.")
    table_of_runs, task_sections = runs_table(runs), sections(runs)
    headline = headline_lines(runs, interventions)
    figures = report_figures(runs)
    figure_paths = []
    for name, (_, png) in figures.items():
        write_file_atomic(out / name, png)
        figure_paths.append(out / name)
    markdown = out / "report.md"
    write_file_atomic(markdown, report_markdown(title=title, subtitle=subtitle, headline=headline,
                                                runs_table=table_of_runs, sections=task_sections,
                                                figures={n: caption for n, (caption, _) in figures.items()}))
    summary_json = out / "report.json"
    write_file_atomic(summary_json, json.dumps(report_json(runs, scoring), ensure_ascii=False, indent=2) + "\n")
    html = out / "report.html"
    page = report_html(title=title, subtitle=subtitle, headline=headline, runs_table=table_of_runs,
                       sections=task_sections, figures=figures,
                       payload_json=payload_json(runs, [t for t, _ in task_order(runs)], scoring))
    write_file_atomic(html, page)
    return ReportFiles(markdown, html, summary_json, tuple(figure_paths), len(runs), n_samples,
                       time.perf_counter() - started)


def build_report(arguments: Sequence[str], out_dir: str | Path, *, scoring: str | None = None,
                 names: dict[str, str] | None = None, title: str = DEFAULT_TITLE, jobs: int = 1,
                 progress: bool | None = None, interventions: Sequence[str] = ()) -> ReportFiles:
    """Load, re-score and compare the runs named by ``arguments``; write the report into ``out_dir``.
    ``jobs`` > 1 scores large samples files in worker processes (see ``runs.score_files``)."""
    started = time.perf_counter()
    progress = sys.stderr.isatty() if progress is None else progress
    runs = load_runs(arguments, scoring=scoring, names=names, jobs=jobs, progress=progress)
    return write_report(runs, out_dir, title=title, started=started, interventions=interventions)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tracekd")
    except PackageNotFoundError:
        return "(source)"
