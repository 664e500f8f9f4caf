"""The sample browser's data: every re-scored item with its judgements, each problem stored once.

Built per samples file where the file is scored (possibly in a worker process) as ready JSON text, so
that only strings travel back; :func:`payload_json` joins the parts. Bounded and compact on purpose (a
report of 100,000 samples must stay a file a browser opens at once): by default each samples file carries
at most ``DEFAULT_BROWSER_SAMPLES`` samples per 2x2 cell of trace and answer (:func:`browser_choice`,
evenly spaced by line; ``None``: every sample), and the page states how many it carries of how many (the
tables and figures always use every sample); short keys, 0/1 flags, problems keyed by content and shared
by every run that answered them, generations cut at ``MAX_GENERATION_CHARS``.

Payload: ``scoring``, ``runs`` and ``tasks`` (names), ``problems`` (key -> ``d`` dataset, ``id``, ``l``
label, ``q`` question, ``u`` units, ``s`` support, ``a`` answers), ``groups`` (``r`` run and ``t`` task
index with their ``samples`` and ``total``, the file's number of samples); ``perCell`` the bound (null: none).
Keys of a sample (read by report.js): ``p`` problem key, ``n`` line in the samples file, ``g`` generation,
``gl`` its full length when cut, ``ok`` parse_ok, ``c`` CLS, ``i`` IR, ``tr`` trace, ``a`` answer, ``gd``
grounded (1/0/null), ``pl`` predicted label, ``ci`` cited unit indices, ``ai`` answer items, ``w`` why each step
was judged so (``[step, reason]`` rows from :func:`tracekd_ext.report.explain.explain_generation`, shown as
written).
Intervention samples (``interventions.browser_rows``) join the groups under their task; ``conditions``
lists the intervention conditions present, in the order of ``interventions.conditions.CONDITIONS``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tracekd_ext.adapters import get_spec
from tracekd_ext.interventions.conditions import CONDITIONS
from tracekd_ext.record import Problem
from tracekd_ext.report.explain import explain_generation
from tracekd_ext.rescore import Scored, ScoredFile

MAX_GENERATION_CHARS = 4000
PAGE_SIZE = 50  # samples rendered at a time
DEFAULT_BROWSER_SAMPLES = 200  # per samples file (a run's task) and 2x2 cell: 5 runs x 5 cells x 200 = 5,000


@dataclass(frozen=True)
class BrowserPart:
    """One samples file's share of the browser data, as JSON text: its samples and its problems by key."""

    samples_json: str
    problems: list[tuple[str, str]]
    total: int  # samples in the file; the part carries at most the bound of each cell


@dataclass(frozen=True)
class BrowserRun:
    """One run as the browser payload needs it: its label, its files' parts by task (free-generation tasks
    first, then intervention tasks), whether some task has aggregates only, and the intervention conditions
    its items were run under."""

    label: str
    parts: list[tuple[str, BrowserPart]]
    aggregate_only: bool
    conditions: frozenset[str]


def dumps(obj: Any) -> str:
    """Compact JSON safe inside a ``<script type="application/json">`` block (no ``<`` that could end it)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def problem_key(problem: Problem) -> str:
    """``dataset/id`` plus a digest of the content: runs share a problem only when it is the same problem."""
    content = json.dumps([problem.label, problem.question, problem.units, problem.support, problem.answers])
    return f"{problem.dataset}/{problem.id}#{hashlib.blake2s(content.encode('utf-8'), digest_size=6).hexdigest()}"


def problem_entry(problem: Problem) -> dict[str, Any]:
    return {"d": problem.dataset, "id": problem.id, "l": problem.label, "q": problem.question,
            "u": list(problem.units), "s": list(problem.support), "a": list(problem.answers)}


def sample_entry(item: Scored, problem: str, scoring: str, kind: str) -> dict[str, Any]:
    """One item as the browser reads it (see the module docstring for the keys)."""
    s = item.score
    why = explain_generation(item.problem, item.generation, s, get_spec(item.problem.dataset), scoring, kind)
    entry: dict[str, Any] = {
        "p": problem, "n": item.line, "g": item.generation[:MAX_GENERATION_CHARS],
        "ok": int(s.parse_ok), "c": _flag(s.cls_correct), "i": _flag(s.ret_correct), "tr": _flag(s.trace_correct),
        "a": int(s.answer_correct), "gd": _flag(s.grounded), "pl": s.pred_label, "ci": list(s.cited),
        "ai": list(s.answer_items), "w": [list(row) for row in why],
    }
    if len(item.generation) > MAX_GENERATION_CHARS:
        entry["gl"] = len(item.generation)
    return entry


def cell(step: bool | None, answer: bool) -> str:
    """The 2x2 cell of a step against the answer (``tt``, ``tf``, ``ft``, ``ff``), ``na`` without the step."""
    return "na" if step is None else ("t" if step else "f") + ("t" if answer else "f")


def browser_choice(cells: Sequence[str], per_cell: int | None) -> list[int]:
    """Indices of the items the browser carries, in file order: every item of a cell with at most
    ``per_cell`` items, else ``per_cell`` of them evenly spaced over the cell (all when ``per_cell`` is None)."""
    if per_cell is None:
        return list(range(len(cells)))
    members: dict[str, list[int]] = {}
    for i, name in enumerate(cells):
        members.setdefault(name, []).append(i)
    chosen = []
    for indices in members.values():
        n = len(indices)
        chosen += indices if n <= per_cell else [indices[k * n // per_cell] for k in range(per_cell)]
    return sorted(chosen)


def part_of(items: Sequence[Any], cells: Sequence[str], per_cell: int | None,
            entry: Callable[[Any, str], dict[str, Any]]) -> BrowserPart:
    """The browser data of a file's ``items`` (those :func:`browser_choice` keeps), each written by ``entry``
    (item, problem key), with their problems."""
    problems: dict[str, str] = {}
    samples = []
    for i in browser_choice(cells, per_cell):
        item = items[i]
        key = problem_key(item.problem)
        if key not in problems:
            problems[key] = dumps(problem_entry(item.problem))
        samples.append(entry(item, key))
    return BrowserPart(dumps(samples), list(problems.items()), len(items))


def browser_part(scored: ScoredFile, per_cell: int | None = DEFAULT_BROWSER_SAMPLES) -> BrowserPart:
    """The browser data of one re-scored samples file: at most ``per_cell`` items per trace x answer cell."""
    cells = [cell(i.score.trace_correct, i.score.answer_correct) for i in scored.items]
    return part_of(scored.items, cells, per_cell,
                   lambda item, key: sample_entry(item, key, scored.scoring, scored.kind))


def payload_json(runs: Sequence[BrowserRun], tasks: Sequence[str], scoring: str,
                 per_cell: int | None = DEFAULT_BROWSER_SAMPLES) -> str:
    """The whole browser payload as JSON text (see the module docstring), joined from the files' parts;
    ``tasks`` names every task of the runs, intervention tasks included."""
    task_index = {task: i for i, task in enumerate(tasks)}
    problems: dict[str, str] = {}
    groups = []
    for r, run in enumerate(runs):
        for task, part in run.parts:
            for key, entry in part.problems:
                problems.setdefault(key, entry)
            groups.append(f'{{"r":{r},"t":{task_index[task]},"total":{part.total},"samples":{part.samples_json}}}')
    head = {
        "scoring": scoring,
        "runs": [run.label for run in runs],
        "tasks": list(tasks),
        "aggregateOnly": [run.label for run in runs if run.aggregate_only],
        "conditions": [c for c in CONDITIONS if any(c in run.conditions for run in runs)],
        "maxGenerationChars": MAX_GENERATION_CHARS,
        "pageSize": PAGE_SIZE,
        "perCell": per_cell,
    }
    problems_json = ",".join(f"{dumps(key)}:{entry}" for key, entry in problems.items())
    return f'{dumps(head)[:-1]},"problems":{{{problems_json}}},"groups":[{",".join(groups)}]}}'
