"""The free-form judge against the hand-labelled traces (tests/data/free_form_labels.jsonl; see
tests/free_form_agreement.py): the set is large enough, its split is the seeded hash's, and the held-out part's
agreement is at least what docs/scoring.md and BENCHMARKS.md report (the figures below are the reported ones,
rounded down; the judge never reads them)."""

from __future__ import annotations

from collections import Counter

from free_form_agreement import agreement, held_out, load_items, parts

from tracekd_ext.adapters import get_spec
from tracekd_ext.record import Problem

REPORTED_HELD_OUT = {"precision": 0.936, "recall": 0.973, "f1": 0.954, "item_f1": 0.926, "label_acc": 0.982,
                     "answer_acc": 0.967, "hallucination_acc": 0.950}


def test_the_labelled_set():
    items = load_items()
    sources = Counter("written" if i["source"] == "written" else "model" for i in items)
    assert len(items) >= 150 and sources["model"] >= 40 and sources["written"] >= 40
    assert len({i["id"] for i in items}) == len(items)
    for item in items:  # every label names units of its own problem
        problem = Problem.from_dict(item["record"])
        assert set(item["cited"]) <= set(range(len(problem.units)))
        assert item["label"] is None or item["label"] in get_spec(problem.dataset).labels
    held = parts(items)["held out"]
    assert 0.25 < len(held) / len(items) < 0.42 and all(held_out(i["id"]) for i in held)


def test_held_out_agreement_meets_the_reported_figures():
    figures = agreement(parts(load_items())["held out"])
    for name, reported in REPORTED_HELD_OUT.items():
        assert getattr(figures, name) >= reported, (name, getattr(figures, name))
