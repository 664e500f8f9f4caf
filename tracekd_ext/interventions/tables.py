"""The paired intervention analysis as text: a Markdown table per run, its correlational numbers and its
reading (``tracekd rescore`` prints them; the report's section shows the same rows)."""

from __future__ import annotations

import math
from typing import Any

from tracekd_ext.interventions.conditions import CORRUPTIONS
from tracekd_ext.stats import CI_LABEL

COLUMNS = ("condition", "n", f"answer_acc [{CI_LABEL} CI]", f"diff vs gold [{CI_LABEL} CI]", "McNemar p",
           "answer_changed",
           "follow_rate (n)", "not perturbed")


def _num(value: Any, fmt: str = ".3f") -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def _ci(value: float, ci: list[float]) -> str:
    return f"{_num(value)} [{_num(ci[0])}, {_num(ci[1])}]"


def run_rows(run: dict[str, Any]) -> list[list[str]]:
    """The table cells of one run (model x dataset): one row per condition, in ``COLUMNS`` order."""
    rows = []
    for name, c in run["conditions"].items():
        paired = name != "gold"
        rows.append([
            name, str(c["n"]), _ci(c["answer_acc"], c["answer_acc_ci"]),
            _ci(c["diff_vs_gold"], c["diff_ci"]) if paired else "",
            _num(c["mcnemar_p"], ".3g") if paired else "", _num(c["answer_changed"]) if paired else "",
            f"{_num(c['follow_rate'])} ({c['follow_n']})" if c["follow_n"] else "n/a",
            str(c["not_perturbed"]) if name in CORRUPTIONS else ""])
    return rows


def run_title(run: dict[str, Any]) -> str:
    return f"{run['model']}, {run['dataset']} ({run['n']} items)"


def correlational_line(run: dict[str, Any]) -> str | None:
    """The free-generation numbers of the same model and dataset, when given."""
    corr = run.get("correlational")
    if not corr:
        return None
    return (f"Correlational ({corr['task']}, {corr['n']} items): phi = {_num(corr['phi'])}, "
            f"P(answer | trace right) = {_num(corr['p_answer_given_trace_right'])}, "
            f"P(answer | trace wrong) = {_num(corr['p_answer_given_trace_wrong'])}")


def run_table(run: dict[str, Any]) -> str:
    """The Markdown table of one run (model x dataset), its correlational numbers and its reading."""
    lines = [f"**{run_title(run)}**", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in run_rows(run)]
    corr = correlational_line(run)
    if corr:
        lines += ["", corr]
    lines += ["", f"Reading: {run['reading']}."]
    return "\n".join(lines)


def markdown(result: dict[str, Any]) -> str:
    return "\n\n".join(run_table(run) for run in result["runs"])
