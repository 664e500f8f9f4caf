"""Text normalisation and overlap measures shared by the answer rules and the retrieval check."""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from functools import lru_cache

_PUNCT = str.maketrans("", "", string.punctuation + "\u2018\u2019\u201c\u201d\u2013\u2014")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def squash_spaces(text: str) -> str:
    """NFKC and whitespace collapsed: how context units are compared with what a trace cites."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split())


@lru_cache(maxsize=262144)
def normalize_answer(text: str) -> str:
    """NFKC, lower case, no punctuation, no articles, single spaces (SQuAD-style, Unicode-safe)."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def precision_recall_f1(n_common: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    """P, R, F1 from counts; an empty prediction against an empty gold set is a perfect match."""
    if n_pred == 0 and n_gold == 0:
        return 1.0, 1.0, 1.0
    if n_common == 0:
        return 0.0, 0.0, 0.0
    p, r = n_common / n_pred, n_common / n_gold
    return p, r, 2 * p * r / (p + r)


def multiset_f1(pred: list[str], gold: list[str]) -> float:
    """F1 of two bags of items (CoTempQA's answer F1, SQuAD's token F1)."""
    common = sum((Counter(pred) & Counter(gold)).values())
    return precision_recall_f1(common, len(pred), len(gold))[2]


def token_f1(pred: str, gold: str) -> float:
    """SQuAD token F1 of two normalised strings."""
    return multiset_f1(normalize_answer(pred).split(), normalize_answer(gold).split())
