"""CoTemp QA answer rules (SPEC 3.1): the official candidate matching, its paper variant, and strict.

The official rule (Su et al. 2024) reads the entity that each fact is about, as subject or object
depending on ``triple_element``, and counts the candidates found in the prediction. Strict scoring reads
a list literal in ``<answer>`` directly and falls back to candidate matching without the official
rule's defects: the question's entity is recognised as a whole (a gold answer that is only part of it
survives), and text is compared after Unicode normalisation.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from tracekd_ext.answer_rules import AnswerScore, exact_match_set
from tracekd_ext.text import multiset_f1, normalize_answer
from tracekd_ext.trace_parse import literal_strings

# (marker that selects the relation, phrase between subject and object), in the official search order.
_RELATIONS = (
    (" the position of ", "holds the position of"),
    (" a member of ", "is a member of the"),
    (" the chair of ", "is the chair of"),
    (" the head of ", "is the head of"),
    (" owned by ", "is owned by"),
    ("attend", "attended"),
    ("work", "works for"),
    ("play", "plays for"),
)
_TEMPLATES = tuple(
    (marker,
     re.compile(rf"(.+?) {phrase} (.+?) from (.+?) to (.+?)\."),
     re.compile(rf"(.+?) {phrase} (.+?) in (.+?)\."))
    for marker, phrase in _RELATIONS
)
_MARKERS = re.compile("|".join(re.escape(marker) for marker, _ in _RELATIONS))
_PRESENT_TENSE = ((" was ", " is "), (" held ", " holds "), (" worked ", " works "), (" played ", " plays "))
_OFFICIAL_PUNCT = str.maketrans("", "", string.punctuation)


def takes_subject(triple_element: str, orientation: str) -> bool:
    """Whether the answer entities are fact subjects. ``original``: CoTempQA's code (objects iff
    S1_R1_O2); ``paper``: Trace_Check_QA's inverted test (subjects unless S2_R1_O1)."""
    if orientation == "paper":
        return "S2_R1_O1" not in triple_element
    return "S1_R1_O2" not in triple_element


def fact_entities(facts: tuple[str, ...], subject: bool) -> tuple[str, ...]:
    """The entity (subject or object) of every fact that matches a relation template, lower-cased."""
    side = 0 if subject else 1
    return tuple(pair[side] for pair in fact_pairs(facts))


@lru_cache(maxsize=65536)
def fact_pairs(facts: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``(subject, object)``, lower-cased, of every fact that matches a relation template (official order)."""
    found = []
    for fact in facts:
        markers = set(_MARKERS.findall(fact))
        if not markers:
            continue
        for old, new in _PRESENT_TENSE:
            fact = fact.replace(old, new)
        for marker, with_span, with_point in _TEMPLATES:
            if marker not in markers:
                continue
            match = (" from " in fact and " to " in fact and with_span.match(fact)) or \
                (" in " in fact and with_point.match(fact))
            if match:
                found.append((match.group(1).lower(), match.group(2).lower()))
                break
    return tuple(found)


def _official_normalize(text: str) -> str:
    return " ".join(text.lower().translate(_OFFICIAL_PUNCT).split())


def _official_span(prediction: str) -> str:
    prediction = prediction.lower()
    if "answer the question based on" in prediction:
        return prediction.split("answer the question based on")[0]
    if " answer " in prediction:
        return prediction.split(" answer ")[1]
    return prediction


def official_score(prediction: str, golds: tuple[str, ...], question: str, facts: tuple[str, ...],
                   subject: bool) -> AnswerScore:
    """The official matching as published, defects included (substring "in the question" test)."""
    prediction = _official_span(prediction)
    question = question.lower()
    lowered_golds = [g.lower() for g in golds]
    candidates = sorted(set(fact_entities(facts, subject)) | set(lowered_golds), key=len, reverse=True)
    predicted, skipped, hit = [], False, False
    for cand in candidates:
        if cand not in prediction:
            continue
        if cand in question and not skipped:
            skipped = True
        else:
            predicted.append(cand)
            hit = True
        prediction = prediction.replace(cand, "")
    if not hit:
        predicted = [prediction]
    pred = sorted({_official_normalize(p) for p in predicted})
    gold = sorted({_official_normalize(g) for g in lowered_golds})
    return AnswerScore(pred == gold, multiset_f1(pred, gold), tuple(pred))


def _padded(text: str) -> str:
    return f" {text} "


@lru_cache(maxsize=65536)
def _strict_candidates(facts: tuple[str, ...], subject: bool, golds: tuple[str, ...],
                       question: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """Normalised candidate entities, longest first, and the question's own entities: the entities of
    the facts (either side) found in the question that are not part of a longer one found there."""
    golds_normal = {normalize_answer(g) for g in golds}
    candidates = sorted({normalize_answer(c) for c in fact_entities(facts, subject)} | golds_normal,
                        key=len, reverse=True)
    candidates = [c for c in candidates if c]
    question_text = _padded(normalize_answer(question))
    entities = {normalize_answer(c) for c in fact_entities(facts, not subject)} | set(candidates)
    in_question = [e for e in entities if e and _padded(e) in question_text]
    own = frozenset(e for e in in_question if not any(e != d and _padded(e) in _padded(d) for d in in_question))
    return tuple(candidates), own


def strict_score(prediction: str, golds: tuple[str, ...], question: str, facts: tuple[str, ...],
                 subject: bool) -> AnswerScore:
    """A list literal is read as the answer set; free text goes through defect-free candidate matching."""
    items = literal_strings(prediction)
    if items is not None:
        return exact_match_set(items, golds)
    text = _padded(normalize_answer(prediction))
    candidates, question_entities = _strict_candidates(facts, subject, golds, question)
    predicted = []
    for cand in candidates:
        padded = _padded(cand)
        if padded in text:
            if cand not in question_entities:
                predicted.append(cand)
            text = text.replace(padded, " | ")
    if not predicted:
        rest = " ".join(text.replace("|", " ").split())
        predicted = [rest] if rest else []
    return exact_match_set(predicted, golds)


def score_cotemp_answer(prediction: str, golds: tuple[str, ...], question: str, facts: tuple[str, ...],
                        triple_element: str, mode: str) -> AnswerScore:
    """Strict (default) or paper scoring of one CoTemp answer."""
    if mode == "paper":
        return official_score(prediction, golds, question, facts, takes_subject(triple_element, "paper"))
    return strict_score(prediction, golds, question, facts, takes_subject(triple_element, "original"))
