"""Per-sample metric values and their summaries: one code path for lm-eval, rescore and reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from tracekd_ext.scoring import SampleScore
from tracekd_ext.stats import BOOTSTRAP_REPLICATES, PairCounts, mean_interval, pair_statistics

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

    A mean-type metric that does not cover the item is left out: lm-eval accumulates only the metrics a
    document returns, so its built-in ``mean`` (with its closed-form stderr) averages the covered items.
    A pair metric is ``None`` there (its aggregation skips it)."""
    values: dict[str, Any] = {"parse_ok": int(s.parse_ok), "answer_acc": int(s.answer_correct),
                              "answer_f1": s.answer_f1}
    if kind == "direct":
        return values
    means = {"cls_acc": _flag(s.cls_correct), "ret_acc": _flag(s.ret_correct), "ret_f1": s.ret_f1,
             "trace_acc": _flag(s.trace_correct), "grounded": _flag(s.grounded)}
    values.update({name: value for name, value in means.items() if value is not None})
    steps = {"trace": s.trace_correct, "cls": s.cls_correct, "ret": s.ret_correct}
    for name, (pair, _) in PAIR_METRICS.items():
        step = steps[pair]
        values[name] = None if step is None else [int(step), int(s.answer_correct)]
    return values


# metric name -> SampleScore attribute, and whether its values are 0/1.
_COLUMNS = {
    "parse_ok": ("parse_ok", True), "cls_acc": ("cls_correct", True), "ret_acc": ("ret_correct", True),
    "ret_f1": ("ret_f1", False), "trace_acc": ("trace_correct", True), "answer_acc": ("answer_correct", True),
    "answer_f1": ("answer_f1", False), "grounded": ("grounded", True),
}
_PAIR_STEPS = {"trace": "trace_correct", "cls": "cls_correct", "ret": "ret_correct"}


def summarize(scores: Sequence[SampleScore], kind: str = "trace", *, labels: Sequence[str] | None = None,
              replicates: int = BOOTSTRAP_REPLICATES) -> dict[str, Any]:
    """``n``, ``evaluated``, each metric's mean with a 95% CI, the pair statistics and ``by_label``.
    ``replicates``: bootstrap resamples of the intervals of non-binary means (F1).

    Means use the same arithmetic, in the same order, as lm-eval's ``mean`` over the per-sample values.
    """
    summary = _summary(scores, kind, replicates)
    if labels is not None:
        groups: dict[str, list[SampleScore]] = {}
        for s, label in zip(scores, labels, strict=True):
            groups.setdefault(label, []).append(s)
        summary["by_label"] = {label: _summary(group, kind, replicates) for label, group in sorted(groups.items())}
    return summary


def _summary(scores: Sequence[SampleScore], kind: str, replicates: int) -> dict[str, Any]:
    names = DIRECT_METRICS if kind == "direct" else STEP_METRICS
    attrs = ("evaluated", *(attr for attr, _ in _COLUMNS.values()))
    rows = list(map(attrgetter(*attrs), scores))  # one pass over the scores, then a C-level transpose
    columns = dict(zip(attrs, map(list, zip(*rows, strict=True)) if rows else ([] for _ in attrs), strict=True))
    metrics = {}
    for name in names:
        attr, binary = _COLUMNS[name]
        column = columns[attr]
        kept = [v for v in column if v is not None] if None in column else column
        mean, low, high = mean_interval(kept, binary=binary, replicates=replicates)
        metrics[name] = {"mean": mean, "ci": [low, high], "n": len(kept)}
    out: dict[str, Any] = {"n": len(scores), "evaluated": sum(columns["evaluated"]), "metrics": metrics}
    if kind == "trace":
        steps = [columns[attr] for attr in _PAIR_STEPS.values()]
        cells = Counter(zip(*steps, columns["answer_correct"], strict=True))  # every pair's table in one pass
        out["pairs"] = {pair: pair_statistics(_pair_counts(cells, k))
                        for k, pair in enumerate(_PAIR_STEPS)}
    return out


def _pair_counts(cells: Counter, step: int) -> PairCounts:
    """The 2x2 table of one step (position ``step`` in the keys) against the answer (last position)."""
    table = Counter()
    for key, count in cells.items():
        if key[step] is not None:
            table[bool(key[step]), bool(key[-1])] += count
    return PairCounts(table[True, True], table[True, False], table[False, True], table[False, False])
