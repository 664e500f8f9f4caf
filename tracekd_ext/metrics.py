"""Per-sample metric values and their summaries: one code path for lm-eval, rescore and reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from tracekd_ext.metric_table import BY_NAME, PAIR_STEPS, Metric, metrics_of
from tracekd_ext.scoring import SampleScore
from tracekd_ext.stats import BOOTSTRAP_REPLICATES, PairCounts, mean_interval, pair_statistics

STEP_METRICS = tuple(m.name for m in metrics_of("trace") if m.pair is None)
DIRECT_METRICS = tuple(m.name for m in metrics_of("direct"))
PAIRS = tuple(PAIR_STEPS)
# lm-eval metric name -> (pair, statistic); each receives the per-sample (step_ok, answer_ok) pairs.
PAIR_METRICS = {m.name: m.pair for m in metrics_of("trace") if m.pair is not None}


def _value(metric: Metric, s: Any) -> Any:
    """One metric's value for one scored item (``None``: the item does not cover it)."""
    if metric.pair is not None:
        step = getattr(s, PAIR_STEPS[metric.pair[0]])
        if step is None:
            return None
        return [int(step), int(s.answer_correct)] if metric.value == "pair" else int(step and s.answer_correct)
    value = getattr(s, metric.attribute)
    return value if value is None or metric.value == "fraction" else int(value)


def sample_values(s: Any, kind: str = "trace") -> dict[str, Any]:
    """The per-sample values lm-eval stores and aggregates for a task of ``kind`` (the metric table's rows
    for that kind): 0/1 flags and fractions for the means, ``[step_ok, answer_ok]`` for the 2x2 statistics.
    ``s`` is a :class:`SampleScore` (trace, direct) or an ``InterventionScore`` (intervene).

    A mean-type metric that does not cover the item is left out: lm-eval accumulates only the metrics a
    document returns, so its built-in ``mean`` (with its closed-form stderr) averages the covered items.
    A pair metric is ``None`` there (its aggregation skips it)."""
    values: dict[str, Any] = {}
    for metric in metrics_of(kind):
        value = _value(metric, s)
        if value is not None or metric.value == "pair":
            values[metric.name] = value
    return values


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
    names = DIRECT_METRICS if kind == "direct" else tuple(m.name for m in metrics_of(kind) if m.pair is None)
    attrs = tuple(dict.fromkeys(("evaluated", *(BY_NAME[name].attribute for name in names),
                                 *(PAIR_STEPS.values() if kind != "direct" else ()), "answer_correct")))
    rows = list(map(attrgetter(*attrs), scores))  # one pass over the scores, then a C-level transpose
    columns = dict(zip(attrs, map(list, zip(*rows, strict=True)) if rows else ([] for _ in attrs), strict=True))
    metrics = {}
    for name in names:
        metric = BY_NAME[name]
        column = columns[metric.attribute]
        kept = [v for v in column if v is not None] if None in column else column
        mean, low, high = mean_interval(kept, binary=metric.value == "0/1", replicates=replicates)
        metrics[name] = {"mean": mean, "ci": [low, high], "n": len(kept)}
    out: dict[str, Any] = {"n": len(scores), "evaluated": sum(columns["evaluated"]), "metrics": metrics}
    if kind != "direct":  # trace and free tasks: the step-vs-answer tables
        steps = [columns[attr] for attr in PAIR_STEPS.values()]
        cells = Counter(zip(*steps, columns["answer_correct"], strict=True))  # every pair's table in one pass
        out["pairs"] = {pair: pair_statistics(_pair_counts(cells, k))
                        for k, pair in enumerate(PAIR_STEPS)}
    return out


def _pair_counts(cells: Counter, step: int) -> PairCounts:
    """The 2x2 table of one step (position ``step`` in the keys) against the answer (last position)."""
    table = Counter()
    for key, count in cells.items():
        if key[step] is not None:
            table[bool(key[step]), bool(key[-1])] += count
    return PairCounts(table[True, True], table[True, False], table[False, True], table[False, False])
