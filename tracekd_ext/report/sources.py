"""Where a report's runs come from: the RUN arguments resolved into files and default labels.

A RUN argument is an lm-eval output folder (``samples_<task>_<date>.jsonl`` and ``results_<date>.json``,
directly or in model-named subfolders: one run per subfolder; the newest samples file of each task), one
samples file, a predictions JSONL file (generations from elsewhere, read as ``tracekd rescore`` reads
them, with :class:`PredictionsOptions`), or a ``tracekd rescore --output`` JSON (aggregates only). The
default label is the model name that lm-eval recorded in ``results_*.json``, else the folder or file name;
``--name`` overrides it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.files.read import parse_json, read_text
from tracekd_ext.rescore import task_from_filename

# lm-eval names a run's folder after the first of these model_args keys (LM_EVAL_NOTES "Outputs").
MODEL_ARG_KEYS = ("peft", "delta", "pretrained", "model", "path", "engine")
SAMPLES_GLOB = "samples_*.jsonl"
RESULTS_GLOB = "results_*.json"


@dataclass(frozen=True)
class PredictionsOptions:
    """How predictions JSONL inputs are read (as by ``tracekd rescore``): ``task`` (e.g. ``cotemp_trace``;
    else each line's ``dataset`` or id prefix, as a trace task) and ``data_dir`` for id-only lines. Files
    whose name gives the task (lm-eval samples) keep their own."""

    task: str | None = None
    data_dir: str | None = None


READ_AS_SAMPLES = PredictionsOptions()  # no task given: each line's dataset, or the samples file's own task


@dataclass(frozen=True)
class RunInput:
    """The files behind one run, before loading: samples files or one rescore JSON."""

    argument: str
    default_label: str
    sample_files: tuple[Path, ...] = ()
    rescore_json: Path | None = None


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
            config = parse_json(path.read_bytes(), path=path).get("config", {})
        except (OSError, DataError, AttributeError):  # not a results file we can read: no label from it
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


def _json_summary(summary: Any, path: Path) -> dict[str, Any]:
    if not isinstance(summary, dict):
        raise DataError("expected an object per task (not a tracekd rescore JSON)", path=path)
    for name in ("task", "scoring", "metrics"):
        if name not in summary:
            raise DataError("missing (not a tracekd rescore JSON)", path=path, field=name)
    return _none_to_nan(summary)


def _none_to_nan(obj: Any) -> Any:
    """A rescore JSON writes undefined statistics as null; the report treats them as NaN again."""
    if obj is None:
        return math.nan
    if isinstance(obj, dict):
        return {k: v if k in ("task", "scoring", "source") else _none_to_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_none_to_nan(v) for v in obj]
    return obj


def read_rescore_json(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The per-task summaries and the pooled one (``None`` when not given) of a ``tracekd rescore --output``
    JSON; undefined statistics (null) come back as NaN."""
    data = parse_json(read_text(path), path=path)
    if not isinstance(data, dict):
        raise DataError("expected a JSON object (a tracekd rescore --output file)", path=path)
    if "results" in data and "config" in data:
        raise DataError("this is an lm-eval results file; pass its folder (with the samples files) instead", path=path)
    if "per_task" in data:
        pooled = data.get("pooled")
        # keyed by the per_task name: two files of one task are "task" and "task#2", both shown (the pooled
        # summary counts both)
        parts = data["per_task"] if isinstance(data["per_task"], dict) else {}
        return ([{**_json_summary(s, path), "task": key} for key, s in parts.items()],
                None if pooled is None else _none_to_nan(pooled))
    return [_json_summary(data, path)], None


def parse_names(pairs: Iterable[str]) -> dict[str, str]:
    """``--name RUN=LABEL`` options as a mapping; RUN is the argument, its path, or the default label."""
    names = {}
    for pair in pairs:
        key, sep, label = pair.partition("=")
        if not sep or not key or not label.strip():
            raise TracekdError(f"--name expects RUN=LABEL, got '{pair}'")
        names[key] = label.strip()
    return names


def name_keys(run_input: RunInput) -> list[str]:
    """What ``--name KEY=LABEL`` may name a run by: its argument (as given, resolved, or its last name), its
    model folder (path or name), or its default label."""
    argument = Path(run_input.argument).expanduser()
    keys = [run_input.argument, str(argument.resolve()), argument.resolve().name, run_input.default_label]
    if run_input.sample_files:
        folder = run_input.sample_files[0].parent
        keys += [str(folder), str(folder.resolve()), folder.resolve().name]
    return keys


def chosen_label(run_input: RunInput, names: dict[str, str], used: set[str]) -> str:
    label = next((names[k] for k in name_keys(run_input) if k in names), run_input.default_label)
    unique, n = label, 2
    while unique in used:
        unique, n = f"{label} #{n}", n + 1
    used.add(unique)
    return unique


