"""lm-eval's samples files, read back: the task a file name names, the generation of one row, and
``score_doc``, the judgement of one generation against its task doc (the code the task's ``process_results``
runs, and ``tracekd rescore`` and the report re-run on saved samples)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tracekd_ext.adapters import get_spec
from tracekd_ext.errors import DataError
from tracekd_ext.record import Problem
from tracekd_ext.scoring import SampleScore
from tracekd_ext.task_scoring import score_generation

# lm-eval's EvaluationTracker names a samples file samples_<task>_<date as isoformat with ':' as '-'>.jsonl
_SAMPLES_NAME = re.compile(r"^samples_(?P<task>.+)_\d{4}-\d{2}-\d{2}T[\d\-.]+\.jsonl$")


def task_from_filename(path: Path) -> str | None:
    """The task of an lm-eval samples file, from its name (``None`` for any other name)."""
    match = _SAMPLES_NAME.match(path.name)
    return match.group("task") if match else None


def generation_text(value: object, path: Path, line: int, field: str) -> str:
    """A saved generation as text: ``null`` is a missing generation, i.e. empty (a parse failure), never
    the text "None"; anything but a string or ``null`` is a DataError."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DataError(f"expected a string or null, got {type(value).__name__}", path=path, line=line, field=field)
    return value


def sample_generation(row: dict[str, Any], path: Path, line: int) -> str:
    """The generation of one saved samples row (filtered, else raw response)."""
    if "filtered_resps" in row:
        resps = row["filtered_resps"]
    elif "resps" in row:
        resps = row["resps"]
        resps = resps[0] if resps and isinstance(resps[0], list) else resps
    else:
        raise DataError("missing", path=path, line=line, field="filtered_resps")
    field = "filtered_resps" if "filtered_resps" in row else "resps"
    if not isinstance(resps, list):
        raise DataError("expected a list", path=path, line=line, field=field)
    return generation_text(resps[0], path, line, field) if resps else ""


def score_doc(doc: dict[str, Any], generation: object, scoring: str | None = None, *, kind: str | None = None,
              problem: Problem | None = None) -> SampleScore:
    """Score one generation against the doc it answers: the doc's own scoring mode and task kind unless
    ``scoring`` / ``kind`` are given; ``problem``: the doc's record when the caller has read it already (with
    its file and line for errors)."""
    problem = Problem.from_dict(doc) if problem is None else problem
    return score_generation(problem, generation, get_spec(problem.dataset), scoring or doc["scoring"],
                            kind or doc["kind"])
