"""lm-eval hooks shared by every trace task: the task folders' ``utils.py`` only bind these.

Docs carry the whole problem record plus the rendered prompt, the gold target, the scoring mode and
the task kind, so ``process_results`` (and ``tracekd rescore`` on a samples file) needs nothing else.
"""

from __future__ import annotations

import json
from typing import Any

from tracekd_ext.adapters import get_spec
from tracekd_ext.data_source import resolve_data_dir
from tracekd_ext.errors import TracekdError
from tracekd_ext.metrics import sample_values
from tracekd_ext.record import Problem
from tracekd_ext.scoring import MODES, score
from tracekd_ext.stats import chi_square, count_pairs, fisher_p, phi, share
from tracekd_ext.trace_format import render_prompt, render_target
from tracekd_ext.trace_parse import parse

TRACE_VARIANT = "correct"
DIRECT_VARIANT = "answer"


def _as_bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")


def make_doc(problem: Problem, kind: str, scoring: str, instruction: bool) -> dict[str, Any]:
    """A task doc: the record (``meta`` as JSON, for Arrow), prompt, target, scoring mode and kind."""
    spec = get_spec(problem.dataset)
    doc = problem.to_dict()
    doc["meta"] = json.dumps(problem.meta, ensure_ascii=False, sort_keys=True)
    doc["prompt"] = render_prompt(problem, spec, instruction=instruction and kind == "trace")
    doc["target"] = render_target(problem, spec, TRACE_VARIANT if kind == "trace" else DIRECT_VARIANT)
    doc["scoring"] = scoring
    doc["kind"] = kind
    return doc


def load_docs(dataset: str, kind: str, **metadata: Any) -> dict[str, Any]:
    """``custom_dataset`` hook: ``{"test": <split from metadata>, "train": <train split, few-shot>}``.

    Metadata keys (``--metadata '{...}'``): ``data_dir`` (else $TRACEKD_DATA_DIR, else the hub),
    ``split`` (test, train, all), ``scoring`` (strict, paper), ``instruction`` (describe the trace format
    in the prompt; default true), plus dataset options the adapter accepts.
    """
    import datasets

    spec = get_spec(dataset)
    scoring = str(metadata.get("scoring", "strict"))
    if scoring not in MODES:
        raise TracekdError(f"unknown scoring mode '{scoring}'; choose from {', '.join(MODES)}")
    instruction = _as_bool(metadata.get("instruction", True))
    data_dir = resolve_data_dir(metadata.get("data_dir"))
    split = str(metadata.get("split", "test"))
    options = {k: v for k, v in metadata.items() if k in spec.options}
    out = {}
    for name, which in (("test", split), ("train", "train")):
        problems = spec.load(data_dir, which, **options)
        out[name] = datasets.Dataset.from_list([make_doc(p, kind, scoring, instruction) for p in problems])
    return out


def doc_to_text(doc: dict[str, Any]) -> str:
    return doc["prompt"]


def doc_to_target(doc: dict[str, Any]) -> str:
    return doc["target"]


def score_doc(doc: dict[str, Any], generation: object, scoring: str | None = None):
    """Score one generation against the doc it answers (the doc's own mode unless ``scoring`` is given)."""
    problem = Problem.from_dict(doc)
    return score(problem, parse(generation), get_spec(problem.dataset), scoring or doc["scoring"], doc["kind"])


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    return sample_values(score_doc(doc, results[0] if results else ""), doc["kind"])


# Aggregations of the pair metrics (plain functions, referenced with !function; no lm-eval registration).
def pair_phi(items: list) -> float:
    return phi(count_pairs(items))


def pair_chi2(items: list) -> float:
    return chi_square(count_pairs(items))[0]


def pair_fisher_p(items: list) -> float:
    return fisher_p(count_pairs(items))


def pair_tt_share(items: list) -> float:
    counts = count_pairs(items)
    return share(counts.tt, counts.n)
