"""Paired analysis of intervention runs: per-item results keyed by (model, item, condition), reduced per
model and dataset to accuracy per condition, the paired difference to ``gold`` (Newcombe CI, exact
McNemar p), ``answer_changed`` and ``follow_rate``; beside them, when the same model's free-generation
samples are given, the correlational trace-vs-answer numbers; and a one-sentence reading per run.

    from tracekd_ext.interventions.analysis import analyze
    result = analyze(["runs/m/samples_cotemp_synth_intervene_gold_....jsonl", ...])
    for run in result["runs"]:
        print(run["model"], run["reading"])
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.files.read import read_jsonl
from tracekd_ext.formatting import fmt
from tracekd_ext.harness.samples import sample_generation
from tracekd_ext.interventions.conditions import CONDITIONS, CORRUPTIONS, KIND, score_doc
from tracekd_ext.interventions.statistics import count_paired, mcnemar_exact_p, paired_difference
from tracekd_ext.record import Problem, type_name
from tracekd_ext.rescore import check_label, load_scored, summarize_file
from tracekd_ext.stats import BOOTSTRAP_REPLICATES, wilson_interval

REFERENCE = "gold"
STEP_NAMES = {"wrong_ret": "retrieval step", "wrong_cls": "classification step", "wrong_both": "trace"}
ALPHA = 0.05


@dataclass(frozen=True, slots=True)
class InterventionItem:
    """One answer written after a forced trace, judged, with where it came from."""

    model: str
    dataset: str
    item: str
    condition: str
    correct: bool
    f1: float
    answer: tuple[str, ...]
    follows: bool | None
    perturbed: bool | None
    prefix: str
    generation: str
    source: Path
    line: int
    problem: Problem
    forced_support: tuple[int, ...] | None


def model_of(path: Path) -> str:
    """lm-eval writes samples into ``<output_path>/<model name>/``: the folder names the model."""
    return path.resolve().parent.name


def _forced_support(doc: dict[str, Any], problem: Problem, path: Path, line: int) -> tuple[int, ...] | None:
    """Check the intervention fields of a doc (the record fields are checked already): ``condition`` a known
    condition, ``gen_prefix`` a string, ``perturbed`` a boolean or null, ``forced_support`` null or unit
    indices; returns the forced support."""
    def error(message: str, name: str) -> DataError:
        return DataError(message, path=path, line=line, field=f"doc.{name}")

    for name in ("condition", "gen_prefix"):
        if name not in doc:
            raise error("missing", name)
        if not isinstance(doc[name], str):
            raise error(f"expected a string, got {type_name(doc[name])}", name)
    if doc["condition"] not in CONDITIONS:
        raise error(f"unknown condition {doc['condition']!r}; one of {', '.join(CONDITIONS)}", "condition")
    if doc.get("perturbed") is not None and not isinstance(doc["perturbed"], bool):
        raise error(f"expected true, false or null, got {type_name(doc['perturbed'])}", "perturbed")
    support = doc.get("forced_support")
    if support is None:
        return None
    if not isinstance(support, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in support):
        raise error("expected null or a list of unit indices", "forced_support")
    outside = [i for i in support if not 0 <= i < len(problem.units)]
    if outside:
        raise error(f"index {outside[0]} outside the units 0..{len(problem.units) - 1}", "forced_support")
    return tuple(support)


def read_samples(path: str | Path, model: str | None = None, *,
                 others: bool = False) -> list[InterventionItem] | None:
    """Re-judge every row of an intervention samples file with the code ``process_results`` runs (the file is
    read once). With ``others``, a file whose first row is not an intervention task's gives ``None`` (and is
    read no further); without, it is an error."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path=path)
    model = model or model_of(path)
    items = []
    for line, row in read_jsonl(path):
        doc = row.get("doc")
        if not isinstance(doc, dict) or doc.get("kind") != KIND:
            if others and not items:
                return None
            raise DataError("not an intervention task's sample (doc.kind is not 'intervene')", path=path, line=line,
                            field="doc")
        problem = Problem.from_dict(doc, path=path, line=line, prefix="doc.")
        check_label(problem, path, line, prefix="doc.")
        support = _forced_support(doc, problem, path, line)
        generation = sample_generation(row, path, line)
        judged = score_doc(doc, generation, problem=problem)
        items.append(InterventionItem(model, problem.dataset, problem.id, doc["condition"],
                                      judged.answer_correct, judged.answer_f1, judged.answer_items, judged.follows,
                                      doc.get("perturbed"), doc["gen_prefix"], generation, path, line, problem,
                                      support))
    if not items:
        raise DataError("no samples in file", path=path)
    return items


def read_intervention_files(paths: Sequence[str | Path]) -> tuple[list[tuple[Path, list[InterventionItem]]],
                                                                   list[Path]]:
    """Each intervention samples file among ``paths`` with its judged items (each file read once, its model
    the folder name), and the other paths (only their first row read)."""
    judged, others = [], []
    for path in map(Path, paths):
        items = read_samples(path, others=True)
        if items is None:
            others.append(path)
        else:
            judged.append((path, items))
    return judged, others


def _mean(values: Sequence[float]) -> float:
    """Same arithmetic, in the same order, as lm-eval's ``mean``."""
    return sum(values) / len(values) if values else math.nan


def _group(items: Iterable[InterventionItem]) -> dict[tuple[str, str], dict[str, list[InterventionItem]]]:
    """(model, dataset) -> condition -> items; a repeated (model, item, condition) is an error."""
    runs: dict[tuple[str, str], dict[str, list[InterventionItem]]] = {}
    seen: dict[tuple[str, str, str, str], InterventionItem] = {}
    for it in items:
        key = (it.model, it.dataset, it.item, it.condition)
        if key in seen:
            first = seen[key]
            raise TracekdError(f"item {it.item} of model {it.model} appears twice under condition {it.condition} "
                               f"({first.source}:{first.line} and {it.source}:{it.line})")
        seen[key] = it
        runs.setdefault((it.model, it.dataset), {}).setdefault(it.condition, []).append(it)
    return runs


def _check_pairs(runs: dict[tuple[str, str], dict[str, list[InterventionItem]]]) -> None:
    """Every run needs ``gold`` and the same items under every condition; the error names what does not pair."""
    for (model, dataset), conditions in runs.items():
        if REFERENCE not in conditions:
            golds = sorted(m for (m, d), c in runs.items() if d == dataset and REFERENCE in c)
            if golds:
                raise TracekdError(
                    f"{dataset} conditions come from different models: gold from {', '.join(golds)}; "
                    f"{', '.join(sorted(conditions))} from {model}; a paired analysis needs one model")
            raise TracekdError(f"model {model}, {dataset}: no gold condition to pair with (have "
                               f"{', '.join(sorted(conditions))})")
        gold_ids = {it.item for it in conditions[REFERENCE]}
        for condition, its in conditions.items():
            ids = {it.item for it in its}
            if ids != gold_ids:
                only_gold, only_here = sorted(gold_ids - ids), sorted(ids - gold_ids)
                parts = [f"{len(only_gold)} only under gold" + (f" (e.g. {only_gold[0]})" if only_gold else ""),
                         f"{len(only_here)} only under {condition}" + (f" (e.g. {only_here[0]})" if only_here else "")]
                raise TracekdError(f"model {model}, {dataset}: condition {condition} covers different items than "
                                   f"gold: {', '.join(parts)}")


def _condition_summary(its: list[InterventionItem], gold: dict[str, InterventionItem]) -> dict[str, Any]:
    correct = [int(it.correct) for it in its]
    follows = [int(it.follows) for it in its if it.follows is not None]
    low, high = wilson_interval(sum(correct), len(correct))
    out: dict[str, Any] = {
        "n": len(its), "answer_acc": _mean(correct), "answer_acc_ci": [low, high],
        "answer_f1": _mean([it.f1 for it in its]),
        "follow_rate": _mean(follows), "follow_rate_ci": list(wilson_interval(sum(follows), len(follows))),
        "follow_n": len(follows),
        "not_perturbed": sum(1 for it in its if it.perturbed is False),
    }
    if its[0].condition != REFERENCE:
        counts = count_paired([gold[it.item].correct for it in its], [it.correct for it in its])
        diff, d_low, d_high = paired_difference(counts)
        changed = sum(1 for it in its if it.answer != gold[it.item].answer)
        out.update(diff_vs_gold=diff, diff_ci=[d_low, d_high], mcnemar_p=mcnemar_exact_p(counts),
                   discordant={"gold_only": counts.tf, "condition_only": counts.ft},
                   answer_changed=changed / len(its), answer_changed_ci=list(wilson_interval(changed, len(its))))
    return out


def reading(run: dict[str, Any]) -> str:
    """One sentence: does the answer depend on the trace (the first corruption present of wrong_ret,
    wrong_both, wrong_cls decides: a significant accuracy drop under it, McNemar p < 0.05)?"""
    conditions = run["conditions"]
    chosen = next((c for c in ("wrong_ret", "wrong_both", "wrong_cls") if c in conditions), None)
    if chosen is None:
        return "no corrupted condition was run: nothing to say about dependence on the trace"
    c = conditions[chosen]
    step = STEP_NAMES[chosen]
    follow = "n/a" if math.isnan(c["follow_rate"]) else f"{c['follow_rate']:.0%}"
    effect = (f"accuracy {c['diff_vs_gold'] * 100:+.0f} points vs gold (McNemar p = {c['mcnemar_p']:.2g}), "
              f"{c['answer_changed']:.0%} of answers change")
    if c["mcnemar_p"] < ALPHA and c["diff_vs_gold"] < 0:
        text = f"answers follow a corrupted {step} in {follow} of items ({effect}): the answer depends on the trace"
    else:
        text = (f"answers follow a corrupted {step} in {follow} of items ({effect}): no evidence that the answer "
                "depends on the trace")
    corr = run.get("correlational")
    if corr:
        text += (f"; correlationally phi = {fmt(corr['phi'])}, P(answer | trace right) = "
                 f"{fmt(corr['p_answer_given_trace_right'])} vs P(answer | trace wrong) = "
                 f"{fmt(corr['p_answer_given_trace_wrong'])}")
    return text


def correlational_numbers(summary: dict[str, Any]) -> dict[str, Any]:
    """The trace-vs-answer numbers shown beside the causal ones, from a trace task's rescore summary."""
    pair = summary["pairs"]["trace"]
    return {"task": summary["task"], "n": pair["n"], "phi": pair["phi"], "phi_ci": pair["phi_ci"],
            "p_answer_given_trace_right": pair["p_answer_given_step"],
            "p_answer_given_trace_wrong": pair["p_answer_given_not_step"], "fisher_p": pair["fisher_p"],
            "source": summary["source"]}


def _correlational(paths: Sequence[Path], replicates: int, *, task: str | None, scoring: str | None,
                   data_dir: str | None) -> dict[tuple[str, str], dict[str, Any]]:
    """(model, dataset) -> the free-generation trace-vs-answer numbers of that model's trace samples, read
    with the same task, scoring and data dir as the rest of the command."""
    out = {}
    for path in paths:
        scored = load_scored(path, task, scoring, data_dir=data_dir)
        if scored.kind != "trace":
            raise TracekdError(f"{path}: {scored.task} samples have no trace to set beside interventions; pass "
                               "only intervention samples and trace samples of the same models")
        out[(model_of(path), scored.items[0].problem.dataset)] = correlational_numbers(
            summarize_file(scored, replicates))
    return out


def _refuse_unmatched(correlational: dict[tuple[str, str], dict[str, Any]], items: Sequence[InterventionItem]) -> None:
    """A trace file whose model and dataset have no intervention run would be dropped without a word."""
    runs = {(it.model, it.dataset) for it in items}
    for (model, dataset), numbers in correlational.items():
        if (model, dataset) not in runs:
            have = ", ".join(f"{m} on {d}" for m, d in sorted(runs))
            raise TracekdError(f"{numbers['source']}: trace samples of model {model} on {dataset} match no "
                               f"intervention run (runs: {have}; the model is the samples' folder name); rescore "
                               "it on its own or with its model's intervention samples")


def analyze_items(items: Iterable[InterventionItem],
                  correlational: dict[tuple[str, str], dict[str, Any]] | None = None) -> dict[str, Any]:
    """The paired analysis of judged items (pure): ``{"runs": [...]}``, one run per (model, dataset)."""
    runs = _group(items)
    if not runs:
        raise TracekdError("no intervention samples to analyse")
    _check_pairs(runs)
    out = []
    for (model, dataset), conditions in sorted(runs.items()):
        gold = {it.item: it for it in conditions[REFERENCE]}
        run: dict[str, Any] = {
            "model": model, "dataset": dataset, "n": len(gold),
            "conditions": {c: _condition_summary(conditions[c], gold) for c in CONDITIONS if c in conditions},
        }
        if correlational and (model, dataset) in correlational:
            run["correlational"] = correlational[(model, dataset)]
        run["reading"] = reading(run)
        out.append(run)
    return {"runs": out, "corruptions": list(CORRUPTIONS)}


def analyze(samples_paths: Sequence[str | Path], *, replicates: int = BOOTSTRAP_REPLICATES, task: str | None = None,
            scoring: str | None = None, data_dir: str | None = None) -> dict[str, Any]:
    """The paired analysis of intervention samples files; free-generation trace samples among the paths
    (e.g. ``samples_cotemp_trace_*.jsonl`` of the same model folder) add the correlational numbers, read
    with ``task``, ``scoring`` and ``data_dir`` as ``tracekd rescore`` reads them; each must match a run."""
    judged, others = read_intervention_files(samples_paths)
    return analyze_read(judged, others, replicates=replicates, task=task, scoring=scoring, data_dir=data_dir)


def analyze_read(judged: Sequence[tuple[Path, list[InterventionItem]]], others: Sequence[Path], *,
                 replicates: int = BOOTSTRAP_REPLICATES, task: str | None = None, scoring: str | None = None,
                 data_dir: str | None = None) -> dict[str, Any]:
    """:func:`analyze` of files already read by :func:`read_intervention_files`."""
    items = [it for _, its in judged for it in its]
    correlational = _correlational(others, replicates, task=task, scoring=scoring, data_dir=data_dir)
    _refuse_unmatched(correlational, items)
    return analyze_items(items, correlational)


def per_sample_rows(items: Iterable[InterventionItem]) -> list[dict[str, Any]]:
    """One JSON row per judged item: the forced prefix, the generation and the normalised answer."""
    return [{"model": it.model, "dataset": it.dataset, "id": it.item, "condition": it.condition,
             "forced_prefix": it.prefix, "generation": it.generation, "answer": list(it.answer),
             "answer_acc": int(it.correct), "answer_f1": it.f1, "follows_trace": it.follows,
             "perturbed": it.perturbed, "source": str(it.source), "line": it.line} for it in items]
