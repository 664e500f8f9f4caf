"""Re-scoring saved generations without a model: lm-eval samples files or predictions JSONL.

A predictions line holds ``prediction`` plus one of: the common record fields (as ``tracekd data export``
writes them); only ``id`` (and optionally ``dataset``), resolved against the data directory; or the
dataset's raw fields (CoTemp: ``question``, ``facts``, ``answer``, ``triple_element``, ``label``; bAbI:
``task``, ``story``; MS MARCO: the hub fields). Scoring calls exactly the code lm-eval's
``process_results`` calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tracekd_ext.adapters import dataset_names, get_spec
from tracekd_ext.data_source import resolve_data_dir
from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.files.read import parse_json, read_jsonl, read_text
from tracekd_ext.harness.samples import generation_text, sample_generation, score_doc, task_from_filename
from tracekd_ext.metrics import summarize
from tracekd_ext.record import RECORD_FIELDS, Problem
from tracekd_ext.scoring import MODES, SampleScore
from tracekd_ext.stats import BOOTSTRAP_REPLICATES
from tracekd_ext.task_registry import task_info
from tracekd_ext.task_scoring import TASK_KINDS, score_generation

ID_ONLY_KEYS = frozenset({"id", "dataset", "prediction"})


@dataclass(frozen=True)
class Scored:
    """One re-scored generation, with where it came from."""

    problem: Problem
    generation: str
    score: SampleScore
    line: int


@dataclass(frozen=True)
class ScoredFile:
    path: Path
    task: str
    kind: str
    scoring: str
    items: list[Scored]


@lru_cache(maxsize=8)
def _problems_by_id(dataset: str, data_dir: str | None) -> dict[str, Problem]:
    """Every problem of ``dataset`` (all splits, the adapter's broadest options) by id."""
    spec = get_spec(dataset)
    return {p.id: p for p in spec.load(data_dir, "all", **spec.lookup_options)}


def _lookup(row: dict[str, Any], dataset: str, data_dir: str | None, path: Path, line: int) -> Problem:
    problem_id = str(row["id"])
    resolved = resolve_data_dir(data_dir)
    found = _problems_by_id(dataset, None if resolved is None else str(resolved)).get(problem_id)
    if found is None:
        where = resolved or "the public source"
        raise DataError(f"unknown id '{problem_id}' (no {dataset} problem has it in {where})", path=path, line=line,
                        field="id")
    return found


def check_label(problem: Problem, path: Path, line: int, prefix: str = "") -> None:
    """The record's dataset is known and its label one of the dataset's (``prefix``: ``doc.`` in samples)."""
    if problem.dataset not in dataset_names():
        raise DataError(f"unknown dataset {problem.dataset!r}; choose from {', '.join(dataset_names())}", path=path,
                        line=line, field=prefix + "dataset")
    labels = get_spec(problem.dataset).labels
    if problem.label not in labels:
        raise DataError(f"{problem.label!r} is not a {problem.dataset} label ({', '.join(labels)})", path=path,
                        line=line, field=prefix + "label")


def _problem(row: dict[str, Any], dataset: str, path: Path, line: int, data_dir: str | None) -> Problem:
    if all(name in row for name in RECORD_FIELDS[:-1]):
        return Problem.from_dict(row, path=path, line=line)
    if "id" in row and set(row) <= ID_ONLY_KEYS:
        return _lookup(row, dataset, data_dir, path, line)
    spec = get_spec(dataset)
    if spec.from_raw is None:
        raise DataError(f"expected the record fields {', '.join(RECORD_FIELDS)}", path=path, line=line)
    return spec.from_raw(row, path=path, line=line)


def _doc_choice(doc: dict[str, Any], name: str, choices: tuple[str, ...], default: str, path: Path,
                line: int) -> str:
    """A samples doc's ``kind`` or ``scoring``: one of ``choices`` (absent: ``default``)."""
    value = doc.get(name, default)
    if value not in choices:
        raise DataError(f"expected one of {', '.join(choices)}, got {json.dumps(value)[:40]}", path=path, line=line,
                        field=f"doc.{name}")
    return value


def _row_dataset(row: dict[str, Any], path: Path, line: int) -> str:
    """The dataset of a predictions row without ``--task``: its ``dataset`` field, else its id's prefix."""
    dataset = row.get("dataset") or str(row.get("id", "")).split("/", 1)[0]
    if dataset not in dataset_names():
        raise TracekdError(f"{path}:{line}: predictions need --task (e.g. cotemp_trace), a 'dataset' field or "
                           "an id such as 'babi/...'")
    return dataset


def refuse_aggregates(path: str | Path) -> None:
    """A ``.json`` input that is one JSON document of aggregates (lm-eval's ``results_*.json``, or
    ``tracekd rescore --output``) holds no generations: say which file to pass instead."""
    path = Path(path)
    if path.suffix != ".json" or not path.is_file():
        return
    try:
        data = parse_json(read_text(path), path=path)
    except DataError:  # JSON lines named .json (or unreadable: reported where it is read)
        return
    if isinstance(data, dict) and "results" in data:
        raise DataError("an lm-eval results file (aggregates, no generations); pass the samples_<task>_<date>.jsonl "
                        "beside it (lm_eval --log_samples writes it)", path=path)
    if isinstance(data, dict) and {"per_task", "metrics"} & set(data):
        raise DataError("a tracekd rescore --output summary (aggregates, no generations); pass the samples or "
                        "predictions it was made from, or give it to tracekd report", path=path)


def load_scored(path: str | Path, task: str | None = None, scoring: str | None = None, *,
                data_dir: str | None = None) -> ScoredFile:
    """Read and score every line of a samples or predictions file; id-only predictions are resolved
    against ``data_dir`` (else $TRACEKD_DATA_DIR, else the public source)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path=path)
    refuse_aggregates(path)
    task = task or task_from_filename(path)
    items, modes = [], set()
    dataset = kind = None
    if task is not None:
        dataset, kind = task_info(task)
    for line, row in read_jsonl(path):
        if "doc" in row:  # an lm-eval samples row
            doc = row["doc"]
            if not isinstance(doc, dict):
                raise DataError("expected an object", path=path, line=line, field="doc")
            problem = Problem.from_dict(doc, path=path, line=line, prefix="doc.")
            generation = sample_generation(row, path, line)
            row_kind = _doc_choice(doc, "kind", TASK_KINDS, kind or "trace", path, line)
            mode = scoring or _doc_choice(doc, "scoring", MODES, "strict", path, line)
        else:
            if "prediction" not in row:
                raise DataError("missing", path=path, line=line, field="prediction")
            if dataset is None:
                dataset = _row_dataset(row, path, line)
            problem = _problem(row, dataset, path, line, data_dir)
            generation = generation_text(row["prediction"], path, line, "prediction")
            row_kind, mode = kind or "trace", scoring or "strict"
        check_label(problem, path, line, "doc." if "doc" in row else "")
        if dataset is None:
            dataset = problem.dataset
        elif problem.dataset != dataset:
            owner = f"task '{task}'" if task else f"this file (line {items[0].line} is {dataset})"
            raise DataError(f"a {problem.dataset} record does not belong to {owner}; a file holds one task's items",
                            path=path, line=line, field="dataset")
        if kind is None:
            kind = row_kind
        elif row_kind != kind:
            owner = f"task '{task}'" if task else f"this file (line {items[0].line} is {kind})"
            raise DataError(f"a {row_kind} sample does not belong to {owner}; a file holds one task's items",
                            path=path, line=line, field="doc.kind")
        modes.add(mode)
        if "doc" in row:  # the code the task's process_results runs
            judged = score_doc(row["doc"], generation, mode, kind=row_kind, problem=problem)
        else:
            judged = score_generation(problem, generation, get_spec(problem.dataset), mode, row_kind)
        items.append(Scored(problem, generation, judged, line))
    if len(modes) > 1:
        raise TracekdError(f"{path}: samples were scored in different modes ({', '.join(sorted(modes))}); "
                           "pass --scoring to choose one")
    if not items:
        raise DataError("no samples in file", path=path)
    if task is None:
        task = f"{items[0].problem.dataset}_{kind}"
    scored = ScoredFile(path, task, kind or "trace", modes.pop(), items)
    check_distinct_items([scored])
    return scored


def check_distinct_items(files: list[ScoredFile]) -> None:
    """Every (task, item) once: a repeated line, the same file given twice or two runs of one task would
    count items twice in a table; the error names both places."""
    seen: dict[tuple[str, str], tuple[Path, int]] = {}
    for scored in files:
        for item in scored.items:
            key = (scored.task, item.problem.id)
            if key in seen:
                first_path, first_line = seen[key]
                raise TracekdError(
                    f"{scored.path}:{item.line}: item '{item.problem.id}' of task '{scored.task}' is also at "
                    f"{first_path}:{first_line}; a table counts every item once (rescore one run at a time, and "
                    "compare runs with tracekd report)")
            seen[key] = (scored.path, item.line)


def summarize_file(scored: ScoredFile, replicates: int = BOOTSTRAP_REPLICATES) -> dict[str, Any]:
    """The rescore summary of one file: task, scoring, source and the metric summary with ``by_label``."""
    summary = summarize([i.score for i in scored.items], scored.kind,
                        labels=[i.problem.label for i in scored.items], replicates=replicates)
    return {"task": scored.task, "scoring": scored.scoring, "source": str(scored.path), **summary}


def is_stepped(kind: str) -> bool:
    """Trace and free-form tasks judge steps and the answer (and are pooled together); direct tasks only answers."""
    return kind != "direct"


def pool_kind(kinds: list[str]) -> str:
    """The kind a pool of stepped items is summarised as: free-form when every pooled task is, else trace."""
    return "free" if kinds and all(k == "free" for k in kinds) else "trace"


def summarize_files(files: list[ScoredFile], replicates: int = BOOTSTRAP_REPLICATES) -> dict[str, Any]:
    """One file: its summary. Several: per-task summaries and the pooled one (all trace items together)."""
    if len(files) == 1:
        return summarize_file(files[0], replicates)
    check_distinct_items(files)
    modes = {f.scoring for f in files}
    if len(modes) > 1:
        raise TracekdError(f"files were scored in different modes ({', '.join(sorted(modes))}); pass --scoring")
    per_task: dict[str, Any] = {}
    for f in files:
        key = f.task if f.task not in per_task else f"{f.task}#{len(per_task) + 1}"
        per_task[key] = summarize_file(f, replicates)
    stepped = [f for f in files if is_stepped(f.kind)]
    trace_items = [i for f in stepped for i in f.items]
    pooled = summarize([i.score for i in trace_items], pool_kind([f.kind for f in stepped]),
                       labels=[f"{i.problem.dataset}:{i.problem.label}" for i in trace_items], replicates=replicates)
    return {"scoring": modes.pop(), "per_task": per_task, "pooled": pooled}


def per_sample_rows(scored: ScoredFile) -> list[dict[str, Any]]:
    """One JSON row per item: id, label, the generation and every judgement."""
    from dataclasses import asdict

    return [{"task": scored.task, "id": i.problem.id, "label": i.problem.label, "line": i.line,
             "prediction": i.generation, **asdict(i.score)} for i in scored.items]
