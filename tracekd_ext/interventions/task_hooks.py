"""lm-eval hooks of the intervention tasks (``<dataset>_intervene_<condition>``).

The task template passes ``dataset`` and ``condition`` through the task's metadata; each doc carries the
problem record, the prompt, the gold trace (few-shot target), the condition, the forced prefix (the task's
``gen_prefix`` field), the forced label and units, and whether the corruption could be applied.
"""

from __future__ import annotations

from typing import Any

from tracekd_ext.adapters import get_spec
from tracekd_ext.errors import TracekdError
from tracekd_ext.harness.task_hooks import check_metadata_keys, make_doc, problem_splits
from tracekd_ext.interventions.conditions import KIND, check_condition, force, score_doc
from tracekd_ext.metrics import sample_values
from tracekd_ext.options import as_bool, check, nonnegative_int
from tracekd_ext.record import Problem
from tracekd_ext.trace_format import PERTURB_SEED

INTERVENTION_KEYS = ("dataset", "condition", "perturb_seed", "think_layout")


def make_intervention_doc(problem: Problem, condition: str, *, instruction: bool, seed: int = PERTURB_SEED,
                          layout: str = "inline") -> dict[str, Any]:
    """A trace-task doc (whose ``target`` is the whole gold trace, shown by few-shot examples) plus the
    condition's forced trace."""
    doc = make_doc(problem, "trace", "strict", instruction)
    forced = force(problem, get_spec(problem.dataset), condition, seed=seed, layout=layout)
    doc.update(kind=KIND, condition=condition, gen_prefix=forced.prefix, forced_label=forced.label,
               forced_support=None if forced.support is None else list(forced.support), perturbed=forced.perturbed)
    return doc


def load_docs(**metadata: Any) -> dict[str, Any]:
    """``custom_dataset`` hook. Metadata: ``dataset`` and ``condition`` (set by the task), ``perturb_seed``
    (default 42, the ``incorrect`` SFT variant's), ``think_layout`` (``inline``, or ``block``
    for Qwen3-style chat templates), plus the trace tasks' keys (``data_dir``, ``split``, ``instruction``,
    dataset options)."""
    import datasets

    if "dataset" not in metadata or "condition" not in metadata:
        raise TracekdError("intervention tasks need 'dataset' and 'condition' in their metadata")
    spec = get_spec(str(metadata["dataset"]))
    condition = check_condition(str(metadata["condition"]))
    check_metadata_keys(f"{spec.name}_intervene_{condition}", (*INTERVENTION_KEYS, *spec.options), metadata)
    instruction = as_bool("instruction", metadata.get("instruction", True))
    layout = str(metadata.get("think_layout", "inline"))
    seed = check("perturb_seed", metadata.get("perturb_seed", PERTURB_SEED), nonnegative_int)
    return {name: datasets.Dataset.from_list([make_intervention_doc(p, condition, instruction=instruction, seed=seed,
                                                                    layout=layout) for p in problems])
            for name, problems in problem_splits(spec, metadata).items()}


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    return sample_values(score_doc(doc, results[0] if results else ""), KIND)


def doc_to_text(doc: dict[str, Any]) -> str:
    return doc["prompt"]


def doc_to_target(doc: dict[str, Any]) -> str:
    return doc["target"]
