"""lm-eval hooks of the trace and answer-only tasks: the task templates reference these with ``!function``.

Docs carry the whole problem record plus the rendered prompt, the gold target, the scoring mode and
the task kind, so ``process_results`` (and ``tracekd rescore`` on a samples file) needs nothing else.
"""

from __future__ import annotations

import difflib
import inspect
import json
import logging
from typing import Any

from tracekd_ext.adapters import get_spec
from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.data_source import resolve_data_dir
from tracekd_ext.errors import TracekdError
from tracekd_ext.free_form.format import render_free_prompt, render_free_target
from tracekd_ext.free_form.score import FREE_MODES
from tracekd_ext.harness.samples import score_doc
from tracekd_ext.json_safe import defined
from tracekd_ext.metrics import sample_values
from tracekd_ext.options import as_bool
from tracekd_ext.record import Problem
from tracekd_ext.scoring import MODES
from tracekd_ext.stats import chi_square, count_pairs, fisher_p, phi
from tracekd_ext.task_registry import TASKS
from tracekd_ext.task_scoring import FREE
from tracekd_ext.trace_format import render_prompt, render_target

TRACE_VARIANT = "correct"
DIRECT_VARIANT = "answer"
# every task's metadata keys (plus the adapter's); fewshot_pool: whether to load the train split as the few-shot
# pool (``tracekd eval`` sets it false for zero-shot runs, so an online dataset's train side is never read then)
TASK_KEYS = ("data_dir", "split", "scoring", "instruction", "fewshot_pool")
LM_EVAL_KEYS = ("version", "config_source")  # what lm-eval itself puts into a task's metadata
SIMILAR = 0.75  # difflib ratio from which an unknown key counts as a misspelling of a task key
LOG = logging.getLogger("tracekd")


def make_doc(problem: Problem, kind: str, scoring: str, instruction: bool) -> dict[str, Any]:
    """A task doc: the record (``meta`` as JSON, for Arrow), prompt, target, scoring mode and kind."""
    spec = get_spec(problem.dataset)
    doc = problem.to_dict()
    doc["meta"] = json.dumps(problem.meta, ensure_ascii=False, sort_keys=True)
    if kind == FREE:  # the model reasons in its own words and ends with the final-answer line
        doc["prompt"], doc["target"] = render_free_prompt(problem, spec), render_free_target(problem, spec)
    else:
        doc["prompt"] = render_prompt(problem, spec, instruction=instruction and kind == "trace")
        doc["target"] = render_target(problem, spec, TRACE_VARIANT if kind == "trace" else DIRECT_VARIANT)
    doc["scoring"] = scoring
    doc["kind"] = kind
    return doc


def model_arg_names() -> frozenset[str]:
    """Every ``__init__`` parameter of the lm-eval model classes imported so far (subclasses of lm-eval's ``LM``
    and their base classes): the ``--model_args`` keys that lm-eval also passes to ``custom_dataset``. lm-eval
    builds the model before it loads the tasks, so the model of the run is among them; no backend is imported
    here."""
    from lm_eval.api.model import LM

    names: set[str] = set()
    classes, seen = [LM], set()
    while classes:
        cls = classes.pop()
        if cls in seen:
            continue
        seen.add(cls)
        classes.extend(cls.__subclasses__())
        for base in cls.__mro__:
            try:
                parameters = inspect.signature(base.__init__).parameters.values()
            except (TypeError, ValueError):
                continue
            names |= {p.name for p in parameters if p.kind is p.KEYWORD_ONLY or p.kind is p.POSITIONAL_OR_KEYWORD}
    return frozenset(names - {"self"})


def check_metadata_keys(task: str, options: tuple[str, ...], metadata: dict[str, Any]) -> None:
    """lm-eval hands ``custom_dataset`` the task metadata, every ``--metadata`` key and every ``--model_args``
    key in one dict. A key that is none of the task's, lm-eval's or a model backend's parameters and resembles a
    task key is a misspelling: a one-line error listing the task's keys. Other unknown keys may be model
    keywords that a backend passes on (``attn_implementation`` to transformers): they are logged, not refused."""
    valid = (*TASK_KEYS, *options)
    unknown = [key for key in metadata if key not in valid and key not in LM_EVAL_KEYS]
    for key in unknown:
        if key in model_arg_names():
            continue
        if difflib.get_close_matches(key, valid, n=1, cutoff=SIMILAR):
            raise TracekdError(f"{task}: unknown --metadata key '{key}'; valid keys: {', '.join(valid)}")
        LOG.warning("%s: --metadata/--model_args key '%s' is neither an option of the task (%s) nor a parameter of "
                    "an lm-eval model backend; the task ignores it", task, key, ", ".join(valid))


def load_docs(dataset: str, kind: str, **metadata: Any) -> dict[str, Any]:
    """``custom_dataset`` hook: ``{"test": <split from metadata>, "train": <train split, few-shot>}``.

    Metadata keys (``--metadata '{...}'``): ``data_dir`` (else $TRACEKD_DATA_DIR, else the hub),
    ``split`` (test, train, all), ``scoring`` (strict, paper), ``instruction`` (describe the trace format
    in the prompt; default true), plus dataset options the adapter accepts.
    """
    import datasets

    spec = get_spec(dataset)
    task = next((name for name, bound in TASKS.items() if bound == (dataset, kind)), f"{dataset}_{kind}")
    check_metadata_keys(task, spec.options, metadata)
    scoring = str(metadata.get("scoring", "strict"))
    modes = FREE_MODES if kind == FREE else MODES
    if scoring not in modes:
        raise TracekdError(f"{task}: unknown scoring mode '{scoring}'; choose from {', '.join(modes)}")
    instruction = as_bool("instruction", metadata.get("instruction", True))
    return {name: datasets.Dataset.from_list([make_doc(p, kind, scoring, instruction) for p in problems])
            for name, problems in problem_splits(spec, metadata).items()}


def problem_splits(spec: DatasetSpec, metadata: dict[str, Any]) -> dict[str, list[Problem]]:
    """The problems of a task's two splits: ``test`` (the ``split`` metadata key: test, train or all) and
    ``train`` (the few-shot pool; empty when ``fewshot_pool`` is false, so it is never read)."""
    data_dir = resolve_data_dir(metadata.get("data_dir"))
    options = {k: v for k, v in metadata.items() if k in spec.options}
    splits = {"test": list(spec.load(data_dir, str(metadata.get("split", "test")), **options))}
    pool = as_bool("fewshot_pool", metadata.get("fewshot_pool", True))
    splits["train"] = list(spec.load(data_dir, "train", **options)) if pool else []
    return splits


def load_trace(**metadata: Any) -> dict[str, Any]:
    """``custom_dataset`` of the trace tasks: the task's metadata names the ``dataset``."""
    return load_docs(_task_dataset(metadata), "trace", **metadata)


def load_direct(**metadata: Any) -> dict[str, Any]:
    """``custom_dataset`` of the answer-only tasks: the task's metadata names the ``dataset``."""
    return load_docs(_task_dataset(metadata), "direct", **metadata)


def load_free(**metadata: Any) -> dict[str, Any]:
    """``custom_dataset`` of the free-form tasks: the task's metadata names the ``dataset``."""
    return load_docs(_task_dataset(metadata), FREE, **metadata)


def _task_dataset(metadata: dict[str, Any]) -> str:
    if "dataset" not in metadata:
        raise TracekdError("trace, direct and free tasks need 'dataset' in their metadata")
    return str(metadata.pop("dataset"))


def doc_to_text(doc: dict[str, Any]) -> str:
    return doc["prompt"]


def doc_to_target(doc: dict[str, Any]) -> str:
    return doc["target"]


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    return sample_values(score_doc(doc, results[0] if results else ""), doc["kind"])


# Aggregations of the pair metrics (plain functions, referenced with !function; no lm-eval registration).
# An undefined statistic (a 2x2 table with an empty row or column) is None: null in lm-eval's results file.
def pair_phi(items: list) -> float | None:
    return defined(phi(count_pairs(items)))


def pair_chi2(items: list) -> float | None:
    return defined(chi_square(count_pairs(items))[0])


def pair_fisher_p(items: list) -> float | None:
    return defined(fisher_p(count_pairs(items)))
