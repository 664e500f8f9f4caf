"""Intervention samples in a report: ``<dataset>_intervene_<condition>`` samples files, judged by
:func:`tracekd_ext.interventions.analysis.read_samples` (the code ``process_results`` and ``tracekd rescore``
run), keyed by the label of the run they belong to, with their share of the sample browser.

Browser keys of an intervention sample (read by report.js), besides ``p`` problem key, ``n`` line, ``g``
generation (``gl`` its full length when cut), ``a`` answer correct and ``ai`` answer items:
``cd`` condition, ``fx`` the forced trace (the prefix the model continued), ``fs`` the forced units' indices
(null: no units forced), ``fo`` follows_trace (1/0/null: undefined), ``pt`` perturbed (1/0/null) and ``w`` why
each judgement came out so (``[judgement, reason]`` rows from :func:`tracekd_ext.interventions.explain_intervention`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tracekd_ext.harness.samples import task_from_filename
from tracekd_ext.interventions.analysis import InterventionItem
from tracekd_ext.interventions.conditions import CONDITION_TEXT, CONDITIONS
from tracekd_ext.reasons import answer_reason
from tracekd_ext.record import Problem
from tracekd_ext.report.browser_data import (
    DEFAULT_BROWSER_SAMPLES,
    MAX_GENERATION_CHARS,
    BrowserPart,
    cell,
    part_of,
)
from tracekd_ext.report.sources import RunInput


@dataclass(frozen=True)
class InterventionFile:
    """One intervention samples file of a run: its task, its judged items and its browser data."""

    task: str
    path: Path
    items: list[InterventionItem]
    browser: BrowserPart


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _follows_reason(condition: str, support: tuple[int, ...] | None, follows: bool | None) -> str:
    if follows is None:
        return ("n/a: no units were forced" if support is None
                else "n/a: the forced units do not determine an answer (see docs/interventions.md)")
    wrong_units = CONDITIONS[condition][1] == "wrong"
    where = "the forced (wrong) units and in none of the gold units" if wrong_units else "the forced units"
    return (f"yes: every answer item occurs in {where}" if follows
            else f"no: the answer is empty, or an item does not occur in {where}")


def explain_intervention(problem: Problem, condition: str, support: tuple[int, ...] | None,
                         perturbed: bool | None, answer_items: tuple[str, ...], correct: bool, f1: float,
                         follows: bool | None) -> list[tuple[str, str]]:
    """Why an answer after a forced trace was judged so (the rules of :func:`score_intervention` and
    :func:`follows_trace`): ``(judgement, reason)`` rows, read by the report's sample browser."""
    forced = f"{condition}: {CONDITION_TEXT[condition]}"
    if perturbed is False:
        forced += " (the corruption could not be applied to this item: not perturbed)"
    return [("forced trace", forced), ("answer", answer_reason(answer_items, problem.answers, correct, f1)),
            ("follows trace", _follows_reason(condition, support, follows))]


def sample_entry(item: InterventionItem, problem: str) -> dict[str, Any]:
    """One intervention item as the browser reads it (see the module docstring for the keys)."""
    entry: dict[str, Any] = {
        "p": problem, "n": item.line, "g": item.generation[:MAX_GENERATION_CHARS], "cd": item.condition,
        "fx": item.prefix, "fs": None if item.forced_support is None else list(item.forced_support),
        "a": int(item.correct), "ai": list(item.answer), "fo": _flag(item.follows), "pt": _flag(item.perturbed),
        "w": [list(row) for row in explain_intervention(item.problem, item.condition, item.forced_support,
                                                        item.perturbed, item.answer, item.correct, item.f1,
                                                        item.follows)],
    }
    if len(item.generation) > MAX_GENERATION_CHARS:
        entry["gl"] = len(item.generation)
    return entry


def intervention_file(path: Path, items: list[InterventionItem], label: str,
                      per_cell: int | None = DEFAULT_BROWSER_SAMPLES) -> InterventionFile:
    """An intervention samples file's judged items as run ``label``'s (the paired analysis pairs items by run
    label); the browser carries at most ``per_cell`` items per cell of follows-the-trace against the answer."""
    items = [it if it.model == label else replace(it, model=label) for it in items]
    browser = part_of(items, [cell(it.follows, it.correct) for it in items], per_cell, sample_entry)
    task = task_from_filename(path) or f"{items[0].dataset}_intervene_{items[0].condition}"
    return InterventionFile(task, path, items, browser)


def merge_intervention_inputs(inputs: Sequence[RunInput], interventions: Collection[Path]) -> list[RunInput]:
    """An intervention samples file (one of ``interventions``) given on its own (``tracekd report
    out/model/samples_*.jsonl``) joins the run of the first single samples file given from the same folder, so
    that the conditions of one model pair up (and meet that model's trace samples); folders and other files stay
    runs of their own."""
    out: list[RunInput] = []
    first_of_folder: dict[Path, int] = {}
    for run_input in inputs:
        if run_input.rescore_json is not None or not Path(run_input.argument).expanduser().is_file():
            out.append(run_input)
            continue
        (path,) = run_input.sample_files
        folder = path.parent.resolve()
        if folder in first_of_folder and path in interventions:
            k = first_of_folder[folder]
            out[k] = replace(out[k], sample_files=out[k].sample_files + (path,))
            continue
        first_of_folder.setdefault(folder, len(out))
        out.append(run_input)
    return out
