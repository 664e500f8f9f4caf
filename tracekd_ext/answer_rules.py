"""Answer rules shared by datasets: the score type and normalised exact match / token F1."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from tracekd_ext.text import normalize_answer, precision_recall_f1, token_f1


@dataclass(frozen=True, slots=True)
class AnswerScore:
    """Whether an answer is right, its F1, and the normalised answer items it was read as."""

    correct: bool
    f1: float
    items: tuple[str, ...]


def exact_match_any(answer: str, golds: tuple[str, ...]) -> AnswerScore:
    """Normalised exact match against any gold answer, with the best token F1 (SQuAD / MS MARCO)."""
    pred = normalize_answer(answer)
    correct = any(pred == normalize_answer(g) for g in golds)
    f1 = max((token_f1(answer, g) for g in golds), default=0.0)
    return AnswerScore(correct, f1, (pred,) if pred else ())


def exact_match_set(items: list[str], golds: tuple[str, ...]) -> AnswerScore:
    """Normalised items compared with the gold answers as sets (list answers such as bAbI's qa8)."""
    pred = {normalize_answer(i) for i in items} - {""}
    gold = gold_set(golds)
    f1 = precision_recall_f1(len(pred & gold), len(pred), len(gold))[2]
    return AnswerScore(pred == gold, f1, tuple(sorted(pred)))


@lru_cache(maxsize=65536)
def gold_set(golds: tuple[str, ...]) -> frozenset[str]:
    """The set of normalised gold answers (cached: golds repeat across generations)."""
    return frozenset(normalize_answer(g) for g in golds)
