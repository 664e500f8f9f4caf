"""Agreement of the free-form judge with the hand labels in tests/data/free_form_labels.jsonl.

Each labelled item holds a problem record, a generation (``source``: SmolLM2-135M-Instruct's greedy output to the
free tasks' prompt, or ``written``: prose written by hand, negatives included) and what a reader found in it:
``cited`` (the units it states), ``label`` (the relation it names, or null), ``answer`` (its final answer by the
convention, or null) and ``hallucinated`` (it states a dated fact that no unit holds). The split is fixed by a
seeded hash of the item id (:func:`held_out`, a third), chosen before the matcher was built; the matcher was
tuned on the development part only.

    python tests/free_form_agreement.py      # print both parts' figures (docs/scoring.md, BENCHMARKS.md)
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracekd_ext.adapters import get_spec  # noqa: E402
from tracekd_ext.free_form.score import judge_free  # noqa: E402
from tracekd_ext.record import Problem  # noqa: E402
from tracekd_ext.text import normalize_answer  # noqa: E402

LABELS = Path(__file__).resolve().parent / "data" / "free_form_labels.jsonl"
SPLIT_SEED = "tracekd-free-form-labels-v1"


def held_out(item_id: str) -> bool:
    """The held-aside third: fixed by a seeded hash of the id, never by the judge's output."""
    return hashlib.sha256(f"{SPLIT_SEED}:{item_id}".encode()).digest()[0] % 3 == 0


def load_items(path: Path = LABELS) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@dataclass(frozen=True)
class Agreement:
    """Figures of one part: unit citations (micro P/R/F1 over all (item, unit) pairs and the mean per-item F1,
    an item with nothing labelled and nothing found counting 1), label accuracy (items of datasets with label
    phrases), final-answer extraction accuracy (normalised text, null = no final answer) and hallucination
    agreement."""

    items: int
    precision: float
    recall: float
    f1: float
    item_f1: float
    label_acc: float
    answer_acc: float
    hallucination_acc: float


def _f1(tp: int, found: int, gold: int) -> float:
    return 1.0 if found == gold == 0 else 2 * tp / (found + gold)


def agreement(items: list[dict]) -> Agreement:
    tp = found = gold = 0
    item_f1, label_ok, answer_ok, halluc_ok, labelled = [], 0, 0, 0, 0
    for item in items:
        problem = Problem.from_dict(item["record"])
        spec = get_spec(problem.dataset)
        judged = judge_free(problem, item["generation"], spec)
        cited, truth = set(judged.score.cited), set(item["cited"])
        tp, found, gold = tp + len(cited & truth), found + len(cited), gold + len(truth)
        item_f1.append(_f1(len(cited & truth), len(cited), len(truth)))
        if spec.label_phrases:
            labelled += 1
            label_ok += judged.score.pred_label == item["label"]
        extracted = judged.parsed.answer
        answer_ok += (extracted is None and item["answer"] is None) or (
            extracted is not None and item["answer"] is not None
            and normalize_answer(extracted) == normalize_answer(item["answer"]))
        halluc_ok += bool(judged.score.hallucinated) == item["hallucinated"]
    n = len(items)
    precision = tp / found if found else 1.0
    recall = tp / gold if gold else 1.0
    return Agreement(n, precision, recall, _f1(tp, found, gold), sum(item_f1) / n,
                     label_ok / labelled if labelled else float("nan"), answer_ok / n, halluc_ok / n)


def parts(items: list[dict]) -> dict[str, list[dict]]:
    return {"development": [i for i in items if not held_out(i["id"])],
            "held out": [i for i in items if held_out(i["id"])]}


def main() -> None:
    items = load_items()
    print("part | items | unit P | unit R | unit F1 (micro) | unit F1 (per item) | label acc | answer acc | "
          "hallucinated acc")
    for name, part in parts(items).items():
        a = agreement(part)
        print(f"{name} | {a.items} | {a.precision:.3f} | {a.recall:.3f} | {a.f1:.3f} | {a.item_f1:.3f} | "
              f"{a.label_acc:.3f} | {a.answer_acc:.3f} | {a.hallucination_acc:.3f}")


if __name__ == "__main__":
    main()
