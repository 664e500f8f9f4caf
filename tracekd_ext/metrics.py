"""Per-sample metric values and their summaries: one code path for lm-eval, rescore and reports."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tracekd_ext.scoring import SampleScore
from tracekd_ext.stats import count_pairs, mean_interval, pair_statistics

STEP_METRICS = ("parse_ok", "cls_acc", "ret_acc", "ret_f1", "trace_acc", "answer_acc", "answer_f1", "grounded")
DIRECT_METRICS = ("parse_ok", "answer_acc", "answer_f1")
PAIRS = ("trace", "cls", "ret")
# lm-eval metric name -> (pair, statistic); each receives the per-sample (step_ok, answer_ok) pairs.
PAIR_METRICS = {
    "trace_answer_phi": ("trace", "phi"),
    "trace_answer_chi2": ("trace", "chi2"),
    "trace_answer_fisher_p": ("trace", "fisher_p"),
    "trace_answer_tt": ("trace", "tt_share"),
    "cls_answer_phi": ("cls", "phi"),
    "ret_answer_phi": ("ret", "phi"),
}


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def sample_values(s: SampleScore, kind: str = "trace") -> dict[str, Any]:
    """The per-sample values lm-eval stores and aggregates (means, and pairs for the 2x2 statistics).
    ``None`` marks an item that a metric does not cover."""
    values: dict[str, Any] = {"parse_ok": int(s.parse_ok), "answer_acc": int(s.answer_correct),
                              "answer_f1": s.answer_f1}
    if kind == "direct":
        return values
    values.update(cls_acc=_flag(s.cls_correct), ret_acc=_flag(s.ret_correct), ret_f1=s.ret_f1,
                  trace_acc=_flag(s.trace_correct), grounded=_flag(s.grounded))
    steps = {"trace": s.trace_correct, "cls": s.cls_correct, "ret": s.ret_correct}
    for name, (pair, _) in PAIR_METRICS.items():
        step = steps[pair]
        values[name] = None if step is None else [int(step), int(s.answer_correct)]
    return values


def defined(values: Sequence[Any]) -> list[Any]:
    return [v for v in values if v is not None]


def mean_defined(values: Sequence[float | None]) -> float:
    """Mean over the items a metric covers (NaN if none); same arithmetic as lm-eval's ``mean``."""
    kept = defined(values)
    return sum(kept) / len(kept) if kept else math.nan


def summarize(scores: Sequence[SampleScore], kind: str = "trace", *, labels: Sequence[str] | None = None,
              replicates: int = 10_000) -> dict[str, Any]:
    """``n``, ``evaluated``, each metric's mean with a 95% CI, the pair statistics and ``by_label``."""
    rows = [sample_values(s, kind) for s in scores]
    summary = _summary(rows, scores, kind, replicates)
    if labels is not None:
        groups: dict[str, list[int]] = {}
        for i, label in enumerate(labels):
            groups.setdefault(label, []).append(i)
        summary["by_label"] = {
            label: _summary([rows[i] for i in idx], [scores[i] for i in idx], kind, replicates)
            for label, idx in sorted(groups.items())
        }
    return summary


def _summary(rows: list[dict[str, Any]], scores: Sequence[SampleScore], kind: str, replicates: int) -> dict[str, Any]:
    names = DIRECT_METRICS if kind == "direct" else STEP_METRICS
    metrics = {}
    for name in names:
        kept = defined(r[name] for r in rows)
        _, low, high = mean_interval(kept)
        metrics[name] = {"mean": mean_defined(kept), "ci": [low, high], "n": len(kept)}
    out: dict[str, Any] = {"n": len(rows), "evaluated": sum(s.evaluated for s in scores), "metrics": metrics}
    if kind == "trace":
        steps = {"trace": "trace_correct", "cls": "cls_correct", "ret": "ret_correct"}
        out["pairs"] = {
            pair: pair_statistics(count_pairs(
                None if getattr(s, attr) is None else (getattr(s, attr), s.answer_correct) for s in scores),
                replicates=replicates)
            for pair, attr in steps.items()
        }
    return out
