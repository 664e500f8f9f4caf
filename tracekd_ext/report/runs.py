"""What a report compares: runs (one model or variant each), found from the RUN arguments and re-scored.

A RUN argument is an lm-eval output folder (``samples_<task>_<date>.jsonl`` and ``results_<date>.json``,
directly or in model-named subfolders: one run per subfolder), one samples file, or a ``tracekd rescore``
JSON (aggregates only: it feeds the tables and figures, not the sample browser). Samples are re-scored
from the saved generations with :func:`tracekd_ext.rescore.load_scored`, so every number equals
``tracekd rescore`` on the same files.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import sys
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.metrics import summarize
from tracekd_ext.rescore import ScoredFile, load_scored, summarize_file, task_from_filename

# lm-eval names a run's folder after the first of these model_args keys (LM_EVAL_NOTES "Outputs").
MODEL_ARG_KEYS = ("peft", "delta", "pretrained", "model", "path", "engine")
SAMPLES_GLOB = "samples_*.jsonl"
RESULTS_GLOB = "results_*.json"
PARALLEL_MIN_BYTES = 50_000_000  # below this much samples JSON, worker processes cost more than they save


@dataclass(frozen=True)
class RunInput:
    """The files behind one run, before loading: samples files or one rescore JSON."""

    argument: str
    default_label: str
    sample_files: tuple[Path, ...] = ()
    rescore_json: Path | None = None


@dataclass(frozen=True)
class TaskResult:
    """One run on one task: the rescore summary, and the scored items unless it came from a rescore JSON."""

    task: str
    kind: str
    scoring: str
    summary: dict[str, Any]
    scored: ScoredFile | None = None


@dataclass
class Run:
    """One column of the comparison: a label, where it came from, its tasks and its pooled summary."""

    label: str
    source: str
    tasks: dict[str, TaskResult] = field(default_factory=dict)
    pooled: dict[str, Any] | None = None

    @property
    def scorings(self) -> set[str]:
        return {t.scoring for t in self.tasks.values()}


def _model_label(model_args: Any) -> str | None:
    """The model name from a results JSON's ``config.model_args`` (a dict, or lm-eval's ``k=v,k=v`` string)."""
    if isinstance(model_args, str):
        model_args = dict(part.split("=", 1) for part in model_args.split(",") if "=" in part)
    if not isinstance(model_args, dict):
        return None
    for key in MODEL_ARG_KEYS:
        value = model_args.get(key)
        if isinstance(value, str) and value.strip():
            value = value.strip().rstrip("/")
            # local paths are named by their last folder; hub ids (owner/name) stay whole
            return Path(value).name if value.startswith(("/", ".", "~")) or Path(value).exists() else value
    return None


def label_from_results(folder: Path) -> str | None:
    """The model name recorded in the newest ``results_*.json`` of an lm-eval model folder, if any."""
    for path in sorted(folder.glob(RESULTS_GLOB), reverse=True):
        try:
            config = json.loads(path.read_text(encoding="utf-8")).get("config", {})
        except (OSError, ValueError, AttributeError):
            continue
        label = _model_label(config.get("model_args")) if isinstance(config, dict) else None
        if label:
            return label
    return None


def latest_samples(folder: Path) -> tuple[Path, ...]:
    """The newest samples file of each task in ``folder`` (lm-eval appends a timestamp to every run)."""
    newest: dict[str, Path] = {}
    for path in sorted(folder.glob(SAMPLES_GLOB)):
        newest[task_from_filename(path) or path.name] = path  # sorted by name = by timestamp within a task
    if len(newest) < len(list(folder.glob(SAMPLES_GLOB))):
        print(f"tracekd report: {folder}: several samples files per task; using the newest of each",
              file=sys.stderr)
    return tuple(sorted(newest.values()))


def find_inputs(argument: str) -> list[RunInput]:
    """Resolve one RUN argument into runs: a folder gives one run (or one per model subfolder), a file one."""
    path = Path(argument).expanduser()
    if path.is_dir():
        folders = [path] if any(path.glob(SAMPLES_GLOB)) else sorted(
            sub for sub in path.iterdir() if sub.is_dir() and any(sub.glob(SAMPLES_GLOB)))
        if not folders:
            raise TracekdError(f"{path}: no lm-eval samples files ({SAMPLES_GLOB}) in the folder or its "
                               "subfolders; run lm_eval with --log_samples --output_path")
        return [RunInput(argument, label_from_results(f) or f.resolve().name, latest_samples(f)) for f in folders]
    if not path.is_file():
        raise DataError("no such file or folder", path=path)
    if path.suffix == ".json":
        return [RunInput(argument, path.stem, rescore_json=path)]
    in_model_folder = task_from_filename(path) is not None
    label = (label_from_results(path.parent) or path.parent.resolve().name) if in_model_folder else path.stem
    return [RunInput(argument, label, (path,))]


def _none_to_nan(obj: Any) -> Any:
    """A rescore JSON writes undefined statistics as null; the report treats them as NaN again."""
    if obj is None:
        return math.nan
    if isinstance(obj, dict):
        return {k: v if k in ("task", "scoring", "source") else _none_to_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_none_to_nan(v) for v in obj]
    return obj


def _json_task_result(summary: dict[str, Any], path: Path) -> TaskResult:
    for name in ("task", "scoring", "metrics"):
        if name not in summary:
            raise DataError("missing (not a tracekd rescore JSON)", path=path, field=name)
    kind = "trace" if "pairs" in summary else "direct"
    return TaskResult(str(summary["task"]), kind, str(summary["scoring"]), _none_to_nan(summary))


def load_rescore_json(path: Path) -> tuple[list[TaskResult], dict[str, Any] | None]:
    """Task results and the pooled summary from a ``tracekd rescore --output`` JSON (one file or several)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise DataError(f"malformed JSON ({err})", path=path) from None
    if not isinstance(data, dict):
        raise DataError("expected a JSON object (a tracekd rescore --output file)", path=path)
    if "results" in data and "config" in data:
        raise DataError("this is an lm-eval results file; pass its folder (with the samples files) instead", path=path)
    if "per_task" in data:
        tasks = [_json_task_result(s, path) for s in data["per_task"].values()]
        pooled = data.get("pooled")
        return tasks, None if pooled is None else _none_to_nan(pooled)
    task = _json_task_result(data, path)
    return [task], task.summary if task.kind == "trace" else None


def pooled_summary(files: Sequence[ScoredFile], summaries: Sequence[dict[str, Any]],
                   replicates: int) -> dict[str, Any] | None:
    """All trace items of a run together, exactly as ``tracekd rescore`` pools several files; a run with one
    trace task reuses that task's summary (the same numbers; its ``by_label`` keys lack the dataset prefix)."""
    trace = [(f, s) for f, s in zip(files, summaries, strict=True) if f.kind == "trace"]
    if len(trace) <= 1:
        return trace[0][1] if trace else None
    trace_items = [i for f, _ in trace for i in f.items]
    return summarize([i.score for i in trace_items], "trace",
                     labels=[f"{i.problem.dataset}:{i.problem.label}" for i in trace_items], replicates=replicates)


def _load_file(path: Path, scoring: str | None) -> ScoredFile:
    try:
        return load_scored(path, None, scoring)
    except DataError:
        raise
    except TracekdError as err:  # unknown task or dataset, mixed modes: say which file
        message = str(err)
        raise TracekdError(message if message.startswith(str(path)) else f"{path}: {message}") from None


def score_file(path: Path, scoring: str | None, replicates: int) -> tuple[ScoredFile, dict[str, Any]]:
    """Re-score one samples file and summarise it as ``tracekd rescore`` does (runs in worker processes)."""
    scored = _load_file(path, scoring)
    return scored, summarize_file(scored, replicates)


def _start_method() -> str:
    """fork while this process has a single thread (cheap: workers inherit imports and caches), else forkserver
    (spawn where neither exists)."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def score_files(paths: Sequence[Path], scoring: str | None, replicates: int, *, jobs: int = 1,
                progress: bool = False) -> dict[Path, tuple[ScoredFile, dict[str, Any]]]:
    """Score every samples file; with ``jobs`` > 1 in that many worker processes (one file each) when there
    is enough work to repay starting them. Without fork, workers re-import the main module, so a script that
    calls this with ``jobs`` > 1 needs the usual ``if __name__ == "__main__":`` guard."""
    from tqdm.auto import tqdm

    workers = min(len(paths), jobs)
    results = {}
    if workers > 1 and sum(p.stat().st_size for p in paths) >= PARALLEL_MIN_BYTES:
        context = multiprocessing.get_context(_start_method())
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = {pool.submit(score_file, path, scoring, replicates): path for path in paths}
            with tqdm(total=len(paths), desc="scoring samples files", unit="file", disable=not progress) as bar:
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    bar.update()
        return results
    for path in tqdm(paths, desc="scoring samples files", unit="file", disable=not progress):
        results[path] = score_file(path, scoring, replicates)
    return results


def build_run(run_input: RunInput, label: str, scoring: str | None, replicates: int,
              scored_files: dict[Path, tuple[ScoredFile, dict[str, Any]]]) -> Run:
    """A run from its re-scored samples files (or its rescore JSON), with per-task and pooled summaries."""
    run = Run(label, run_input.argument)
    if run_input.rescore_json is not None:
        tasks, run.pooled = load_rescore_json(run_input.rescore_json)
        for task in tasks:
            if scoring is not None and task.scoring != scoring:
                raise TracekdError(f"{run_input.rescore_json}: holds aggregates scored in '{task.scoring}' mode and "
                                   f"cannot be re-scored in '{scoring}' mode; pass its samples file instead")
            run.tasks.setdefault(task.task, task)
        return run
    for path in run_input.sample_files:
        scored, summary = scored_files[path]
        if scored.task in run.tasks:
            raise TracekdError(f"{scored.path}: a second samples file of task '{scored.task}' in run '{label}' "
                               f"(first: {run.tasks[scored.task].scored.path}); pass them as separate runs")
        run.tasks[scored.task] = TaskResult(scored.task, scored.kind, scored.scoring, summary, scored)
    run.pooled = pooled_summary([t.scored for t in run.tasks.values()], [t.summary for t in run.tasks.values()],
                                replicates)
    return run


def parse_names(pairs: Iterable[str]) -> dict[str, str]:
    """``--name RUN=LABEL`` options as a mapping; RUN is the argument, its path, or the default label."""
    names = {}
    for pair in pairs:
        key, sep, label = pair.partition("=")
        if not sep or not key or not label.strip():
            raise TracekdError(f"--name expects RUN=LABEL, got '{pair}'")
        names[key] = label.strip()
    return names


def _name_keys(run_input: RunInput) -> list[str]:
    """What ``--name KEY=LABEL`` may name a run by: its argument, its resolved path, its model folder or label."""
    keys = [run_input.argument, str(Path(run_input.argument).expanduser().resolve()), run_input.default_label]
    if run_input.sample_files:
        keys += [str(run_input.sample_files[0].parent), str(run_input.sample_files[0].parent.resolve())]
    return keys


def _chosen_label(run_input: RunInput, names: dict[str, str], used: set[str]) -> str:
    label = next((names[k] for k in _name_keys(run_input) if k in names), run_input.default_label)
    unique, n = label, 2
    while unique in used:
        unique, n = f"{label} #{n}", n + 1
    used.add(unique)
    return unique


def check_scoring(runs: Sequence[Run]) -> str:
    """The one scoring mode of all runs; mixed modes are an error that names the runs."""
    modes = {mode for run in runs for mode in run.scorings}
    if len(modes) > 1:
        detail = ", ".join(f"{run.label} ({'/'.join(sorted(run.scorings))})" for run in runs)
        raise TracekdError(f"runs were scored in different modes: {detail}; pass --scoring strict or --scoring "
                           "paper to re-score every sample in one mode")
    return modes.pop() if modes else "strict"


def load_runs(arguments: Sequence[str], *, scoring: str | None = None, names: dict[str, str] | None = None,
              replicates: int = 10_000, jobs: int = 1, progress: bool = True) -> list[Run]:
    """Find, re-score and label every run; all runs must end up in one scoring mode. ``jobs``: worker
    processes for scoring (see :func:`score_files`)."""
    names = names or {}
    inputs = [run_input for argument in arguments for run_input in find_inputs(argument)]
    used: set[str] = set()
    labels = [_chosen_label(run_input, names, used) for run_input in inputs]
    unused = set(names) - {key for run_input in inputs for key in _name_keys(run_input)}
    if unused:
        raise TracekdError(f"--name given for '{sorted(unused)[0]}', which is none of the runs "
                           f"({', '.join(i.argument for i in inputs)})")
    paths = list(dict.fromkeys(path for run_input in inputs for path in run_input.sample_files))
    scored_files = score_files(paths, scoring, replicates, jobs=jobs, progress=progress)
    runs = [build_run(run_input, label, scoring, replicates, scored_files)
            for run_input, label in zip(inputs, labels, strict=True)]
    check_scoring(runs)
    return runs
