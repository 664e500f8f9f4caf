"""The sample browser's data: every re-scored item with its judgements, problems stored once.

Compact on purpose (50,000 samples must stay a file a browser opens): short keys, 0/1 flags, each
problem's context once however many runs answered it, generations cut at ``MAX_GENERATION_CHARS``.
Keys of a sample (read by report.js):
``r`` run, ``t`` task, ``p`` problem (indices), ``n`` line in the samples file, ``g`` generation,
``gl`` its full length when cut, ``f`` parse facts [think opened, think closed, IR sentence, answer tag],
``ok`` parse_ok, ``ev`` evaluated, ``c`` CLS, ``i`` IR, ``tr`` trace, ``a`` answer, ``gd`` grounded
(1/0/null), ``af`` answer F1, ``rp``/``rr``/``rf`` IR precision/recall/F1, ``pl`` predicted label,
``ci`` cited unit indices, ``u`` citations matching no unit, ``ai`` answer items as read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tracekd_ext.adapters import get_spec
from tracekd_ext.record import Problem
from tracekd_ext.report.runs import Run
from tracekd_ext.report.tables import task_order
from tracekd_ext.rescore import Scored
from tracekd_ext.trace_parse import parse

MAX_GENERATION_CHARS = 4000
PAGE_SIZE = 50  # samples rendered at a time
COMPLETE_FORMAT = [1, 1, 1, 1]  # format_facts of a generation whose trace format is complete (parse_ok)


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _problem_entry(problem: Problem) -> dict[str, Any]:
    return {"d": problem.dataset, "id": problem.id, "l": problem.label, "q": problem.question,
            "u": list(problem.units), "s": list(problem.support), "a": list(problem.answers)}


def format_facts(generation: str) -> list[int]:
    """What the parser found: [think opened, think closed, IR sentence, answer tag] as 0/1."""
    parsed = parse(generation)
    return [int(parsed.has_think), int(parsed.think_closed), int(parsed.ir_text is not None),
            int(parsed.has_answer_tag)]


def sample_entry(item: Scored, run: int, task: int, problem: int) -> dict[str, Any]:
    """One item as the browser reads it (see the module docstring for the keys)."""
    s = item.score
    entry: dict[str, Any] = {
        "r": run, "t": task, "p": problem, "n": item.line, "g": item.generation[:MAX_GENERATION_CHARS],
        "f": COMPLETE_FORMAT if s.parse_ok else format_facts(item.generation),
        "ok": int(s.parse_ok), "ev": int(s.evaluated), "c": _flag(s.cls_correct), "i": _flag(s.ret_correct),
        "tr": _flag(s.trace_correct), "a": int(s.answer_correct), "gd": _flag(s.grounded),
        "af": _rounded(s.answer_f1), "rp": _rounded(s.ret_precision), "rr": _rounded(s.ret_recall),
        "rf": _rounded(s.ret_f1), "pl": s.pred_label, "ci": list(s.cited), "u": s.uncited_items,
        "ai": list(s.answer_items),
    }
    if len(item.generation) > MAX_GENERATION_CHARS:
        entry["gl"] = len(item.generation)
    return entry


def browser_payload(runs: Sequence[Run], scoring: str) -> dict[str, Any]:
    """Runs, tasks, problems (once each) and samples of every run that kept its scored items."""
    tasks = [task for task, _ in task_order(runs)]
    task_index = {task: i for i, task in enumerate(tasks)}
    problems: list[dict[str, Any]] = []
    problem_index: dict[Problem, int] = {}
    samples = []
    for r, run in enumerate(runs):
        for task, result in run.tasks.items():
            if result.scored is None:
                continue
            for item in result.scored.items:
                p = problem_index.get(item.problem)
                if p is None:
                    p = problem_index[item.problem] = len(problems)
                    problems.append(_problem_entry(item.problem))
                samples.append(sample_entry(item, r, task_index[task], p))
    datasets = sorted({p["d"] for p in problems})
    return {
        "scoring": scoring,
        "runs": [run.label for run in runs],
        "tasks": tasks,
        "aggregateOnly": [run.label for run in runs if any(t.scored is None for t in run.tasks.values())],
        "paperClsSentence": {d: get_spec(d).paper_cls_sentence for d in datasets},
        "maxGenerationChars": MAX_GENERATION_CHARS,
        "pageSize": PAGE_SIZE,
        "problems": problems,
        "samples": samples,
    }


def payload_json(payload: dict[str, Any]) -> str:
    """JSON safe to embed in a ``<script type="application/json">`` block (no ``<`` that could end it)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
