"""Answer rules shared by datasets: the score type, normalised exact match / token F1, and the pieces of
the published (paper) evaluation: its answer extraction, normalisation and list comparison."""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache

from tracekd_ext.frozen_build import builder
from tracekd_ext.text import multiset_f1, normalize_answer, precision_recall_f1, token_f1


@dataclass(frozen=True, slots=True)
class AnswerScore:
    """Whether an answer is right, its F1, and the normalised answer items it was read as."""

    correct: bool
    f1: float
    items: tuple[str, ...]


_answer_score = builder(AnswerScore)  # (correct, f1, items) without the keyword __init__'s cost


def exact_match_any(answer: str, golds: tuple[str, ...]) -> AnswerScore:
    """Normalised exact match against any gold answer, with the best token F1 (SQuAD / MS MARCO)."""
    pred = normalize_answer(answer)
    correct = any(pred == normalize_answer(g) for g in golds)
    f1 = max((token_f1(answer, g) for g in golds), default=0.0)
    return AnswerScore(correct, f1, (pred,) if pred else ())


def exact_match_set(items: list[str], golds: tuple[str, ...]) -> AnswerScore:
    """Normalised items compared with the gold answers as sets (list answers such as bAbI's qa8)."""
    pred = set(map(normalize_answer, items))
    pred.discard("")
    gold = gold_set(golds)
    f1 = precision_recall_f1(len(pred & gold), len(pred), len(gold))[2]
    return _answer_score(pred == gold, f1, tuple(sorted(pred)))


@lru_cache(maxsize=65536)
def gold_set(golds: tuple[str, ...]) -> frozenset[str]:
    """The set of normalised gold answers (cached: golds repeat across generations)."""
    return frozenset(normalize_answer(g) for g in golds)


# The published evaluation's answer extraction (Trace_Check_QA ``evaluate_model``), in its order.
_PAPER_PROMPT_ECHO = "answer the question based on"
_PAPER_SPLIT_MARKERS = (" answer ", "answer:")
_PAPER_DELETED = ("assistant", "think")
_PAPER_PUNCT = str.maketrans("", "", string.punctuation)


def paper_answer_span(generation: str) -> str:
    """The text the published rule reads as the answer, from the whole generation.

    Lower-cased; the first rule that applies wins: ``<answer>`` present: up to the next ``</answer>``
    (or the end); else ``answer the question based on`` present: the text before it; else `` answer ``
    or else ``answer:`` present: the text between its first and second occurrence. A generation with
    none of these (answer-only models) is read whole. Then every ``assistant``, then every ``think`` is
    deleted wherever it occurs (``assistant professor`` becomes `` professor``, ``<think>`` ``<>``).
    """
    text = generation.lower()
    if "<answer>" in text:
        text = text.split("<answer>", 1)[1].split("</answer>", 1)[0]
    elif _PAPER_PROMPT_ECHO in text:
        text = text.split(_PAPER_PROMPT_ECHO, 1)[0]
    else:
        for marker in _PAPER_SPLIT_MARKERS:
            if marker in text:
                text = text.split(marker, 2)[1]
                break
    for word in _PAPER_DELETED:
        text = text.replace(word, "")
    return text


def paper_normalize(text: str) -> str:
    """The published normalisation: lower case, ASCII punctuation removed, whitespace collapsed
    (articles are kept, unlike :func:`normalize_answer`)."""
    return " ".join(text.lower().translate(_PAPER_PUNCT).split())


def paper_list_score(predicted: list[str], golds: list[str]) -> AnswerScore:
    """The published comparison of two lists: each de-duplicated *before* normalising, then normalised
    and sorted; exact match is list equality (two spellings that normalise alike make the lists
    unequal), F1 the multiset overlap."""
    pred = sorted(paper_normalize(item) for item in set(predicted))
    gold = sorted(paper_normalize(item) for item in set(golds))
    return AnswerScore(pred == gold, multiset_f1(pred, gold), tuple(pred))


def paper_gated_match(span: str, gold: str) -> AnswerScore:
    """The published bAbI rule on an extracted span: the prediction counts only if the lower-cased gold
    string occurs in it; then exact match of the normalised prediction with the normalised gold."""
    gold = gold.lower()
    if gold not in span:
        return AnswerScore(False, 0.0, ())
    return paper_list_score([span], [gold])
