"""CoTemp QA answer rules (used by the CoTemp and synth adapters): the official candidate matching, its
paper variant, and strict.

The official rule (Su et al. 2024) reads the entity that each fact is about, as subject or object
depending on ``triple_element``, and counts the candidates found in the prediction. Strict scoring reads
a list literal in ``<answer>`` directly and falls back to candidate matching without the official
rule's defects: the question's entity is recognised as a whole (a gold answer that is only part of it
survives), and text is compared after Unicode normalisation.
"""

from __future__ import annotations

from functools import lru_cache

from tracekd_ext.answer_rules import AnswerScore, exact_match_set, paper_list_score
from tracekd_ext.text import literal_strings, normalize_answer

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
_PRESENT_TENSE = ((" was ", " is "), (" held ", " holds "), (" worked ", " works "), (" played ", " plays "))

# The published templates, each ``re.match``-ed on the fact: ``(.+?) {phrase} (.+?)`` followed by the words
# that end the object, in the published order: span ``from A to B.``, point ``in A.``, open span ``from A``, bare
# ``X rel Y.`` (``holds the position of`` lists the point template twice; a second try of the same template
# cannot match where the first did not, so it is left out). An empty last word stands for ``(.+?)`` with
# nothing after it: one more character.
_SPAN, _POINT, _OPEN_SPAN, _BARE = (" from ", " to ", "."), (" in ", "."), (" from ", ""), (".",)
_TEMPLATE_TAILS = (_SPAN, _POINT, _OPEN_SPAN, _BARE)


def _template_pair(fact: str, phrase: str) -> tuple[str, str] | None:
    """Groups 1 and 2 of the first of the templates ``re.match(rf"(.+?) {phrase} (.+?)<tail>", fact)``, in the
    published order, that matches, in linear time (the regex backtracks quadratically on a fact that repeats the
    phrase).

    ``.`` stops at a line break, so the match lies in the fact's first line. Every group is lazy and at
    least one character long, so the regex takes, at each step, the first occurrence of the next literal
    that leaves one character for the group before it; the rest of the pattern can only match less from a
    later position, so where the first occurrence fails, every later one does. Group 1 is therefore the same
    for every template: the text before the phrase's first occurrence after the line's first character.
    """
    line = fact.partition("\n")[0]
    at = line.find(f" {phrase} ", 1)
    if at < 0:
        return None
    start = at + len(phrase) + 2  # where group 2 starts
    for tail in _TEMPLATE_TAILS:
        end, pos = -1, start  # where group 2 ends; where the next group starts
        for separator in tail:
            if not separator:  # a final lazy group: one more character
                if pos < len(line):
                    return line[:at], line[start:end]
                break
            found = line.find(separator, pos + 1)
            if found < 0:
                break
            end = found if end < 0 else end
            pos = found + len(separator)
        else:
            return line[:at], line[start:end]
    return None


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
    """``(subject, object)``, lower-cased, of every fact that matches a relation template (:func:`_fact_pair`)."""
    return tuple(filter(None, map(_fact_pair, facts)))


@lru_cache(maxsize=262144)
def _fact_pair(fact: str) -> tuple[str, str] | None:
    """``(subject, object)``, lower-cased, of a fact that matches a relation template, as published, else ``None``:
    the markers are tried in order on the fact as written (case-sensitive); the first one present turns the fact
    into the present tense (kept for the later markers) and tries its templates in order as ``re.match`` would
    (:func:`_template_pair`); the first template that matches gives the pair, and when none does the next marker
    present is tried. Cached per fact: problems about one subject share facts."""
    for marker, phrase in _RELATIONS:
        if marker not in fact:
            continue
        for old, new in _PRESENT_TENSE:
            fact = fact.replace(old, new)
        pair = _template_pair(fact, phrase)
        if pair:
            return pair[0].lower(), pair[1].lower()
    return None


def official_score(span: str, golds: tuple[str, ...], question: str, facts: tuple[str, ...],
                   subject: bool) -> AnswerScore:
    """The official matching as published, defects included, on the span the published extraction
    gives (``answer_rules.paper_answer_span``).

    Candidates: the facts' entities and the lower-cased golds, de-duplicated, longest first (ties in
    first-seen order; the published code left them to set order). Each candidate found in the span is
    removed from it; the first found that also occurs in the question (by substring) is dropped, the
    others are predicted. Nothing predicted: the remaining span is the prediction.
    """
    question = question.lower()
    lowered_golds = [g.lower() for g in golds]
    candidates = sorted(dict.fromkeys([*fact_entities(facts, subject), *lowered_golds]), key=len, reverse=True)
    predicted, skipped = [], False
    for cand in candidates:
        if cand not in span:
            continue
        if cand in question and not skipped:
            skipped = True
        else:
            predicted.append(cand)
        span = span.replace(cand, "")
    return paper_list_score(predicted or [span], lowered_golds)


def _padded(text: str) -> str:
    return f" {text} "


@lru_cache(maxsize=65536)
def _normal_entities(facts: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """The normalised subjects and the normalised objects of the facts (empty ones left out)."""
    pairs = fact_pairs(facts)
    # each distinct text normalised once (a problem's facts mostly share their subject)
    subjects = frozenset(map(normalize_answer, {s for s, _ in pairs})) - {""}
    return subjects, frozenset(map(normalize_answer, {o for _, o in pairs})) - {""}


@lru_cache(maxsize=65536)
def _strict_candidates(facts: tuple[str, ...], subject: bool, golds: tuple[str, ...],
                       question: str) -> tuple[tuple[tuple[str, str], ...], frozenset[str]]:
    """Normalised candidate entities, longest first (equal lengths in text order, so that no run depends on
    set order), each with its space-padded form, and the question's own entities: the entities of the facts
    (either side) found in the question that are not part of a longer one found there."""
    subjects, objects = _normal_entities(facts)
    candidates = sorted((subjects if subject else objects).union(map(normalize_answer, golds)) - {""},
                        key=lambda c: (-len(c), c))
    question_text = _padded(normalize_answer(question))
    entities = (objects if subject else subjects).union(candidates)
    in_question = [e for e in entities if _padded(e) in question_text]
    own = frozenset(e for e in in_question if not any(e != d and _padded(e) in _padded(d) for d in in_question))
    return tuple((c, _padded(c)) for c in candidates), own


def strict_score(prediction: str, golds: tuple[str, ...], question: str, facts: tuple[str, ...],
                 subject: bool) -> AnswerScore:
    """A list literal is read as the answer set; free text goes through defect-free candidate matching."""
    items = literal_strings(prediction)
    if items is not None:
        return exact_match_set(items, golds)
    normal = normalize_answer(prediction)
    if not normal:  # nothing to match: no candidate, an empty rest
        return exact_match_set([], golds)
    text = _padded(normal)
    candidates, question_entities = _strict_candidates(facts, subject, golds, question)
    predicted = []
    for cand, padded in candidates:
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
    """Strict (default) or paper scoring of one CoTemp answer: strict reads the answer part the parser
    found, paper the span of the published extraction (``answer_rules.paper_answer_span``)."""
    if mode == "paper":
        return official_score(prediction, golds, question, facts, takes_subject(triple_element, "paper"))
    return strict_score(prediction, golds, question, facts, takes_subject(triple_element, "original"))
