"""Rendering the paired intervention analysis: a Markdown table per run and a grouped bar chart of
accuracy per condition per run with 95% CIs (used by ``tracekd rescore`` and ``tracekd report``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tracekd_ext.interventions import CONDITIONS

COLUMNS = ("condition", "n", "answer_acc [95% CI]", "diff vs gold [95% CI]", "McNemar p", "answer_changed",
           "follow_rate (n)", "not perturbed")


def _num(value: Any, fmt: str = ".3f") -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def _ci(value: float, ci: list[float]) -> str:
    return f"{_num(value)} [{_num(ci[0])}, {_num(ci[1])}]"


def run_table(run: dict[str, Any]) -> str:
    """The Markdown table of one run (model x dataset), its correlational numbers and its reading."""
    lines = [f"**{run['model']}**, {run['dataset']} ({run['n']} items)", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for name, c in run["conditions"].items():
        paired = name != "gold"
        lines.append("| " + " | ".join([
            name, str(c["n"]), _ci(c["answer_acc"], c["answer_acc_ci"]),
            _ci(c["diff_vs_gold"], c["diff_ci"]) if paired else "",
            _num(c["mcnemar_p"], ".3g") if paired else "", _num(c["answer_changed"]) if paired else "",
            f"{_num(c['follow_rate'])} ({c['follow_n']})" if c["follow_n"] else "n/a",
            str(c["not_perturbed"]) if name in ("wrong_cls", "wrong_ret", "wrong_both") else ""]) + " |")
    corr = run.get("correlational")
    if corr:
        lines += ["", f"Correlational ({corr['task']}, {corr['n']} items): phi = {_num(corr['phi'])}, "
                      f"P(answer | trace right) = {_num(corr['p_answer_given_trace_right'])}, "
                      f"P(answer | trace wrong) = {_num(corr['p_answer_given_trace_wrong'])}"]
    lines += ["", f"Reading: {run['reading']}."]
    return "\n".join(lines)


def markdown(result: dict[str, Any]) -> str:
    return "\n\n".join(run_table(run) for run in result["runs"])


def accuracy_chart(result: dict[str, Any], path: str | Path) -> Path:
    """Grouped bars: accuracy per condition (groups) per run (bars), with Wilson 95% CIs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = result["runs"]
    conditions = [c for c in CONDITIONS if any(c in r["conditions"] for r in runs)]
    width = 0.8 / max(1, len(runs))
    fig, ax = plt.subplots(figsize=(1.4 * len(conditions) + 2, 3.6))
    for k, run in enumerate(runs):
        xs, ys, errs = [], [], [[], []]
        for i, name in enumerate(conditions):
            c = run["conditions"].get(name)
            if c is None:
                continue
            xs.append(i - 0.4 + width * (k + 0.5))
            ys.append(c["answer_acc"])
            errs[0].append(max(0.0, c["answer_acc"] - c["answer_acc_ci"][0]))
            errs[1].append(max(0.0, c["answer_acc_ci"][1] - c["answer_acc"]))
        ax.bar(xs, ys, width, yerr=errs, capsize=3, label=f"{run['model']} / {run['dataset']}")
    ax.set_xticks(range(len(conditions)), conditions)
    ax.set_ylim(0, 1)
    ax.set_ylabel("answer accuracy (95% CI)")
    ax.set_title("Answer accuracy under forced traces")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
