"""What a report compares: runs (one model or variant each), re-scored from their saved generations.

Intervention samples files (``<dataset>_intervene_<condition>``) are judged apart, per run
(``interventions.browser_rows``). Other samples files are re-scored with
:func:`tracekd_ext.rescore.load_scored` and summarised with :func:`tracekd_ext.rescore.summarize_file`,
so every number equals ``tracekd rescore`` on the same files.
Each file is scored in one call of :func:`score_file` (in a worker process when ``jobs`` > 1), which
keeps what the report needs: the summary, the per-item scores for pooling, and the file's share of the
sample browser as JSON text (cheap to send between processes).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.harness.samples import task_from_filename
from tracekd_ext.interventions.analysis import InterventionItem, read_intervention_files
from tracekd_ext.interventions.browser_rows import InterventionFile, intervention_file, merge_intervention_inputs
from tracekd_ext.metrics import summarize
from tracekd_ext.report.browser_data import DEFAULT_BROWSER_SAMPLES, BrowserPart, BrowserRun, browser_part
from tracekd_ext.report.sources import (
    READ_AS_SAMPLES,
    PredictionsOptions,
    RunInput,
    chosen_label,
    find_inputs,
    name_keys,
    read_rescore_json,
)
from tracekd_ext.rescore import ScoredFile, is_stepped, load_scored, pool_kind, summarize_file
from tracekd_ext.scoring import SampleScore
from tracekd_ext.stats import BOOTSTRAP_REPLICATES
from tracekd_ext.task_registry import TASKS

PARALLEL_MIN_BYTES = 50_000_000  # below this much samples JSON, worker processes cost more than they save


@dataclass(frozen=True)
class ScoredItems:
    """What the report keeps of a re-scored samples file besides its summary."""

    path: Path
    scores: list[SampleScore]
    pool_labels: list[str]  # "dataset:label" of each item, as tracekd rescore labels pooled items
    browser: BrowserPart


@dataclass(frozen=True)
class TaskResult:
    """One run on one task: the rescore summary, and its items unless it came from a rescore JSON."""

    task: str
    kind: str
    scoring: str
    summary: dict[str, Any]
    items: ScoredItems | None = None


@dataclass
class Run:
    """One column of the comparison: a label, where it came from, its tasks and its pooled summary."""

    label: str
    source: str
    tasks: dict[str, TaskResult] = field(default_factory=dict)
    pooled: dict[str, Any] | None = None
    interventions: dict[str, InterventionFile] = field(default_factory=dict)

    def browser_run(self) -> BrowserRun:
        """What the sample browser shows of this run."""
        parts = [(task, result.items.browser) for task, result in self.tasks.items() if result.items is not None]
        parts += [(task, part.browser) for task, part in self.interventions.items()]
        conditions = frozenset(item.condition for part in self.interventions.values() for item in part.items)
        return BrowserRun(self.label, parts, any(t.items is None for t in self.tasks.values()), conditions)

    @property
    def scorings(self) -> set[str]:
        return {t.scoring for t in self.tasks.values()}


def _load_file(path: Path, scoring: str | None, reading: PredictionsOptions) -> ScoredFile:
    try:
        return load_scored(path, None if task_from_filename(path) else reading.task, scoring, data_dir=reading.data_dir)
    except DataError:
        raise
    except TracekdError as err:  # unknown task or dataset, mixed modes: say which file
        message = str(err)
        raise TracekdError(message if message.startswith(str(path)) else f"{path}: {message}") from None


def score_file(path: Path, scoring: str | None, replicates: int,
               reading: PredictionsOptions = READ_AS_SAMPLES,
               browser_samples: int | None = DEFAULT_BROWSER_SAMPLES) -> TaskResult:
    """Re-score one samples or predictions file and summarise it exactly as ``tracekd rescore`` does (the
    sample browser carries at most ``browser_samples`` of its items per 2x2 cell; None: all)."""
    scored = _load_file(path, scoring, reading)
    items = ScoredItems(path, [i.score for i in scored.items],
                        [f"{i.problem.dataset}:{i.problem.label}" for i in scored.items],
                        browser_part(scored, browser_samples))
    return TaskResult(scored.task, scored.kind, scored.scoring, summarize_file(scored, replicates), items)


def _start_method() -> str:
    """fork while this process has a single thread (cheap: workers inherit imports and caches), else forkserver
    (spawn where neither exists)."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def score_files(paths: Sequence[Path], scoring: str | None, replicates: int, *, jobs: int = 1,
                progress: bool = False, min_parallel_bytes: int = PARALLEL_MIN_BYTES,
                reading: PredictionsOptions = READ_AS_SAMPLES,
                browser_samples: int | None = DEFAULT_BROWSER_SAMPLES) -> dict[Path, TaskResult]:
    """Score every samples file; with ``jobs`` > 1 in that many worker processes (one file each) when the
    files hold at least ``min_parallel_bytes``. Without fork, workers re-import the main module, so a script
    that calls this with ``jobs`` > 1 needs the usual ``if __name__ == "__main__":`` guard."""
    from tqdm.auto import tqdm

    workers = min(len(paths), jobs)
    results = {}
    if workers > 1 and sum(p.stat().st_size for p in paths) >= min_parallel_bytes:
        context = multiprocessing.get_context(_start_method())
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = {pool.submit(score_file, path, scoring, replicates, reading, browser_samples): path
                       for path in paths}
            with tqdm(total=len(paths), desc="scoring samples files", unit="file", disable=not progress) as bar:
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    bar.update()
        return results
    for path in tqdm(paths, desc="scoring samples files", unit="file", disable=not progress):
        results[path] = score_file(path, scoring, replicates, reading, browser_samples)
    return results


def pooled_summary(results: Sequence[TaskResult], replicates: int) -> dict[str, Any] | None:
    """All stepped (trace and free-form) items of a run together, exactly as ``tracekd rescore`` pools several
    files; a run with one such task reuses that task's summary (the same numbers; its ``by_label`` keys lack the
    dataset prefix)."""
    stepped = [r for r in results if is_stepped(r.kind)]
    if len(stepped) <= 1:
        return stepped[0].summary if stepped else None
    return summarize([s for r in stepped for s in r.items.scores], pool_kind([r.kind for r in stepped]),
                     labels=[label for r in stepped for label in r.items.pool_labels], replicates=replicates)


def _rescore_json_run(run: Run, path: Path, scoring: str | None) -> Run:
    summaries, pooled = read_rescore_json(path)
    for summary in summaries:
        if scoring is not None and summary["scoring"] != scoring:
            raise TracekdError(f"{path}: holds aggregates scored in '{summary['scoring']}' mode and cannot be "
                               f"re-scored in '{scoring}' mode; pass its samples file instead")
        task = str(summary["task"])
        kind = TASKS[task][1] if task in TASKS else ("trace" if "pairs" in summary else "direct")
        run.tasks.setdefault(task, TaskResult(task, kind, summary["scoring"], summary))
    stepped = [t.summary for t in run.tasks.values() if is_stepped(t.kind)]
    run.pooled = pooled if pooled is not None else (stepped[0] if len(stepped) == 1 else None)
    return run


def build_run(run_input: RunInput, label: str, scoring: str | None, replicates: int,
              scored: dict[Path, TaskResult], intervention_files: dict[Path, list[InterventionItem]] | None = None,
              browser_samples: int | None = DEFAULT_BROWSER_SAMPLES) -> Run:
    """A run from its re-scored samples files (or its rescore JSON), with per-task and pooled summaries;
    ``intervention_files`` (path -> judged items) among its files are intervention samples of this run."""
    intervention_files = intervention_files or {}
    run = Run(label, run_input.argument)
    if run_input.rescore_json is not None:
        return _rescore_json_run(run, run_input.rescore_json, scoring)
    for path in run_input.sample_files:
        if path in intervention_files:
            part = intervention_file(path, intervention_files[path], label, browser_samples)
            if part.task in run.interventions:
                raise TracekdError(f"{path}: a second samples file of task '{part.task}' in run '{label}' "
                                   f"(first: {run.interventions[part.task].path}); pass them as separate runs")
            run.interventions[part.task] = part
            continue
        result = scored[path]
        if result.task in run.tasks:
            raise TracekdError(f"{path}: a second samples file of task '{result.task}' in run '{label}' "
                               f"(first: {run.tasks[result.task].items.path}); pass them as separate runs")
        run.tasks[result.task] = result
    run.pooled = pooled_summary(list(run.tasks.values()), replicates)
    return run


def check_scoring(runs: Sequence[Run]) -> str:
    """The one scoring mode of all runs; mixed modes are an error that names the runs."""
    modes = {mode for run in runs for mode in run.scorings}
    if len(modes) > 1:
        detail = ", ".join(f"{run.label} ({'/'.join(sorted(run.scorings))})" for run in runs)
        raise TracekdError(f"runs were scored in different modes: {detail}; pass --scoring strict or --scoring "
                           "paper to re-score every sample in one mode")
    return modes.pop() if modes else "strict"


def refuse_repeated_files(inputs: Sequence[RunInput]) -> None:
    """A file reached twice (the same run given twice, or a folder and a file in it) would count its items
    twice, as ``tracekd rescore`` refuses the same file twice; the error names both arguments."""
    seen: dict[Path, str] = {}
    for run_input in inputs:
        files = run_input.sample_files + ((run_input.rescore_json,) if run_input.rescore_json else ())
        for path in files:
            resolved = path.resolve()
            if resolved in seen:
                raise TracekdError(f"{path}: given twice (by {seen[resolved]} and {run_input.argument}); each run "
                                   "counts once")
            seen[resolved] = run_input.argument


def load_runs(arguments: Sequence[str], *, scoring: str | None = None, names: dict[str, str] | None = None,
              replicates: int = BOOTSTRAP_REPLICATES, jobs: int = 1, progress: bool = True,
              reading: PredictionsOptions = READ_AS_SAMPLES,
              browser_samples: int | None = DEFAULT_BROWSER_SAMPLES) -> list[Run]:
    """Find, re-score and label every run; all runs must end up in one scoring mode. ``jobs``: worker
    processes for scoring (see :func:`score_files`); ``browser_samples``: the sample browser's bound per
    samples file and 2x2 cell (None: every sample)."""
    names = names or {}
    found = [run_input for argument in arguments for run_input in find_inputs(argument)]
    refuse_repeated_files(found)
    judged, _ = read_intervention_files(list(dict.fromkeys(p for i in found for p in i.sample_files)))
    interventions = dict(judged)
    inputs = merge_intervention_inputs(found, interventions)
    used: set[str] = set()
    labels = [chosen_label(run_input, names, used) for run_input in inputs]
    unused = set(names) - {key for run_input in inputs for key in name_keys(run_input)}
    if unused:
        raise TracekdError(f"--name given for '{sorted(unused)[0]}', which is none of the runs "
                           f"({', '.join(i.argument for i in inputs)})")
    paths = list(dict.fromkeys(path for run_input in inputs for path in run_input.sample_files))
    scored = score_files([p for p in paths if p not in interventions], scoring, replicates, jobs=jobs,
                         progress=progress, reading=reading, browser_samples=browser_samples)
    runs = [build_run(run_input, label, scoring, replicates, scored, interventions, browser_samples)
            for run_input, label in zip(inputs, labels, strict=True)]
    check_scoring(runs)
    return runs
