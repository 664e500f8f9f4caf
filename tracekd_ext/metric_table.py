"""The metric table: every metric tracekd's tasks report, declared once.

Each row says which task kinds report the metric, what one sample contributes, how lm-eval aggregates it,
and which report column shows it. The per-sample values (:mod:`tracekd_ext.metrics` and
:mod:`tracekd_ext.interventions.conditions`), the summaries of ``tracekd rescore``, the report's table columns
(:mod:`tracekd_ext.report.tables`) and the task templates' ``metric_list`` (written by
``tasks/trace_qa/_generate_configs.py``) are all read from :data:`METRICS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

KINDS = ("trace", "direct", "intervene", "free")
# Value types: "0/1" a per-item flag (mean: an accuracy), "fraction" a per-item score in [0, 1] (mean: an F1),
# "pair" the item's (step correct, answer correct) pair, aggregated over the task into one 2x2 statistic. A "0/1"
# metric with a ``pair`` is the flag "step and answer both correct" (its mean is the TT cell's share, with a stderr).
VALUE_TYPES = ("0/1", "fraction", "pair")
# step of a pair metric -> the SampleScore attribute holding its correctness (paired with ``answer_correct``)
PAIR_STEPS = {"trace": "trace_correct", "cls": "cls_correct", "ret": "ret_correct"}
GLUE_MODULE = "tracekd_ext.harness.task_hooks"  # where the pair aggregations live (``pair_<statistic>``)


@dataclass(frozen=True)
class Metric:
    """One metric. ``attribute``: the score attribute a mean metric averages (items where it is ``None`` are
    left out); ``pair``: ``(step, statistic)`` of a pair metric, the statistic a key of
    :func:`tracekd_ext.stats.pair_statistics`; ``column``: its header in the report's task tables, shown for
    the kinds in ``report_kinds``."""

    name: str
    kinds: tuple[str, ...]
    value: str
    higher_is_better: bool
    description: str
    attribute: str | None = None
    pair: tuple[str, str] | None = None
    column: str | None = None
    report_kinds: tuple[str, ...] = ()

    @property
    def aggregation(self) -> str:
        """lm-eval's aggregation: ``mean`` (with its closed-form stderr), or the pair statistic's function."""
        return "mean" if self.value != "pair" else f"pair_{self.pair[1]}"


METRICS: tuple[Metric, ...] = (
    Metric("parse_ok", ("trace", "direct", "free"), "0/1", True,
           "complete output format (trace tasks: a closed <think> with a CLS and an IR sentence and a tagged "
           "<answer>; direct tasks: a non-empty answer; free tasks: a final answer by the convention)",
           attribute="parse_ok", column="parse_ok",
           report_kinds=("trace", "direct")),
    Metric("cls_acc", ("trace", "free"), "0/1", True, "the classification step names the gold label",
           attribute="cls_correct", column="cls", report_kinds=("trace",)),
    Metric("ret_acc", ("trace", "free"), "0/1", True, "the retrieval step cites exactly the gold support",
           attribute="ret_correct", column="ret", report_kinds=("trace",)),
    Metric("ret_f1", ("trace", "free"), "fraction", True, "F1 of the cited units against the gold support",
           attribute="ret_f1"),
    Metric("trace_acc", ("trace", "free"), "0/1", True, "both steps correct (free tasks: every scored step)",
           attribute="trace_correct",
           column="trace", report_kinds=("trace",)),
    Metric("answer_acc", ("trace", "direct", "intervene", "free"), "0/1", True,
           "the answer is correct by the dataset's rule",
           attribute="answer_correct", column="answer", report_kinds=("trace", "direct")),
    Metric("answer_f1", ("trace", "direct", "intervene", "free"), "fraction", True,
           "token F1 of the answer against the best gold answer", attribute="answer_f1", column="answer F1",
           report_kinds=("direct",)),
    Metric("grounded", ("trace", "free"), "0/1", True,
           "every answer item occurs in the units the model cited (items whose gold answer is in the gold units)",
           attribute="grounded", column="grounded", report_kinds=("trace",)),
    Metric("hallucinated", ("free",), "0/1", False,
           "the reasoning asserts a dated fact that no unit holds (items whose units carry dates)",
           attribute="hallucinated"),
    Metric("follows_trace", ("intervene",), "0/1", True,
           "the answer is what the forced units support (items where the forced units determine an answer)",
           attribute="follows"),
    Metric("trace_answer_phi", ("trace", "free"), "pair", True, "phi of trace correctness vs answer correctness",
           pair=("trace", "phi")),
    Metric("trace_answer_chi2", ("trace", "free"), "pair", True,
           "Pearson chi-square (df 1) of trace correctness vs answer correctness", pair=("trace", "chi2")),
    Metric("trace_answer_fisher_p", ("trace", "free"), "pair", False,
           "two-sided Fisher exact p of trace correctness vs answer correctness", pair=("trace", "fisher_p")),
    Metric("trace_answer_tt", ("trace", "free"), "0/1", True,
           "share of items with a correct trace and a correct answer",
           pair=("trace", "tt_share")),
    Metric("cls_answer_phi", ("trace", "free"), "pair", True, "phi of CLS correctness vs answer correctness",
           pair=("cls", "phi")),
    Metric("ret_answer_phi", ("trace", "free"), "pair", True, "phi of IR correctness vs answer correctness",
           pair=("ret", "phi")),
)
BY_NAME = {m.name: m for m in METRICS}


@cache
def metrics_of(kind: str) -> tuple[Metric, ...]:
    """The metrics a task of ``kind`` reports, in table order."""
    return tuple(m for m in METRICS if kind in m.kinds)


@cache
def report_columns(kind: str) -> tuple[Metric, ...]:
    """The metrics shown as columns of the report's task table for ``kind``, in table order."""
    return tuple(m for m in METRICS if kind in m.report_kinds)


def metric_list_yaml(kind: str) -> str:
    """The ``metric_list`` of a task template of ``kind``, as YAML text."""
    lines = ["metric_list:"]
    for m in metrics_of(kind):
        aggregation = m.aggregation if m.value != "pair" else f"!function {GLUE_MODULE}.{m.aggregation}"
        lines += [f"  - metric: {m.name}  # {m.description}", f"    aggregation: {aggregation}",
                  f"    higher_is_better: {str(m.higher_is_better).lower()}"]
    return "\n".join(lines) + "\n"
