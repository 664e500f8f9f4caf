"""Judging the steps of free-form reasoning against a problem's units: which units it states, which label it
names, and whether it asserts a dated fact that no unit holds. Deterministic, linear in the reasoning's length.

Units are identified by their content. A unit's *name* is its content words (entities, roles, organisations,
places, objects: every word but function words and the words of the relation templates), each weighted by how
rare it is among the problem's units (idf), so the words every unit shares (CoTemp's subject) count for nothing
and the word that sets a unit apart counts most. A unit's *dates* are its (year, month) pairs; days are ignored.

The reasoning is cut into sentences (at ``.``/``!``/``?`` before a space, line breaks and ``;``) and sentences
into clauses (at ``and``, ``but``, ``while``, ``whereas``, except between numbers). A clause **states** a unit when

- it holds at least half of the unit's name weight (``NAME_SHARE``), in any order and inflection (plural ``s``);
- for a unit with dates, a date of the clause is one of the unit's (same year; same month where both give one),
  and every date in the clause belongs to a unit the clause names; a clause without dates borrows its sentence's
  ("He was titular bishop and auxiliary bishop from 1977 to 1981" states both); a dated unit named without any
  date is not stated (a fact is its time as much as its entity: naming the answer is not retrieving the fact);
- no other unit stated by the clause holds a strict superset of the words matched for it (``bishop`` is not
  stated by "titular bishop" when the unit ``titular bishop`` is).

``hallucinated`` (defined where some unit carries a date): a dated clause asserts a fact no unit holds, that is it
names a unit's entity with a date of none of the units it names, or it names an entity that appears nowhere in the
context or the question (a capitalised word outside the context's vocabulary) beside a date.

Label (datasets that declare ``label_phrases``): a sentence names a label when it holds one of the dataset's
``label_cue`` words and a label phrase that is not negated (``not``, ``n't``, ``no`` just before it); the phrase
right after the cue counts (else the last one before it); a sentence naming three or more labels lists the
options and names none. The last sentence that names a label gives ``pred_label``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from tracekd_ext.adapters.base import DatasetSpec

NAME_SHARE = 0.5  # share of a unit's name weight a clause must hold to name it
MONTHS = {name: i for i, names in enumerate(
    (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
     ("december", "dec")), start=1) for name in names}
# Words that carry no identity: function words, and the relation templates' words (CoTemp's "holds the position
# of", "plays for", "is a member of", ...; bAbI's movement verbs), which prose paraphrases freely.
FUNCTION_WORDS = frozenset("""
a an the of for in on at to from by with as and or but not no nor is are was were be been being am has have had
do does did this that these those it its he she they them his her their him i we you our your me my mine who whom
which what when where while whereas during until till since then than so also there here into onto about after before
between through over under again once both each other same such only own too very can will just should now
hold holds held holding position positions play plays played playing work works worked working member members
attend attends attended attending own owns owned owning chair chairs head heads team teams employ employs employed
travel travels travelled traveled travelling went go goes going gone move moves moved moving journey journeys
journeyed back
""".split())
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+|;")
_CONJUNCTION = r",?\s+(?:and|but|while|whilst|whereas)\s+"
_CLAUSE = re.compile(rf"(?<!\d){_CONJUNCTION}|(?<=\d){_CONJUNCTION}(?!\d)", re.IGNORECASE)  # not in "1990 and 1999"
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
# (month [day][,] year) | (day month[,] year) | ISO year-month[-day] | month/year | a bare year
_DATE = re.compile(
    rf"\b(?P<m1>{_MONTH_NAMES})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?,?\s+(?P<y1>\d{{4}})\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_MONTH_NAMES})\.?,?\s+(?P<y2>\d{{4}})\b"
    r"|\b(?P<y3>\d{4})-(?P<m3>\d{1,2})(?:-\d{1,2})?\b"
    r"|\b(?P<m4>\d{1,2})/(?:\d{1,2}/)?(?P<y4>\d{4})\b"
    r"|\b(?P<y5>\d{4})s?\b", re.IGNORECASE)
_CAPITALISED = re.compile(r"(?<![.!?:\n]\s)(?<!^)\b[A-Z][a-z]+")
_NEGATION = re.compile(r"(?:\bnot|n't|\bno)\s+(?:an?\s+|the\s+)?(?:\w+\s+)?$")
Date = tuple[int, int | None]


def fold(text: str) -> str:
    """Lower case, compatibility forms unified and accents dropped (``Horváth`` reads as ``horvath``); ASCII text
    is only lower-cased."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def stem(word: str) -> str:
    """A word's comparison form: possessive and plural ``s`` dropped."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


def dates_of(text: str) -> list[Date]:
    """The (year, month) pairs ``text`` states; a bare year has month ``None``. Years outside 1000-2199 (and
    months outside 1-12) are not dates."""
    found = []
    for m in _DATE.finditer(text):
        year = m.group("y1") or m.group("y2") or m.group("y3") or m.group("y4") or m.group("y5")
        if not 1000 <= int(year) < 2200:
            continue
        month_text = m.group("m1") or m.group("m2") or m.group("m3") or m.group("m4")
        month = None
        if month_text:
            month = MONTHS.get(month_text.lower().rstrip(".")) if month_text[0].isalpha() else int(month_text)
            if month is not None and not 1 <= month <= 12:
                month = None
        found.append((int(year), month))
    return found


def _compatible(date: Date, dates: tuple[Date, ...]) -> bool:
    return any(date[0] == d[0] and (date[1] is None or d[1] is None or date[1] == d[1]) for d in dates)


@dataclass(frozen=True, slots=True)
class UnitIndex:
    """Per problem: each distinct unit text's name words and weights, its dates, and the word postings."""

    keys: tuple[str, ...]                         # distinct unit texts (whitespace-normalised), in order
    indices: tuple[tuple[int, ...], ...]          # the unit indices of each key
    names: tuple[dict[str, float], ...]           # each key's name words -> weight
    totals: tuple[float, ...]                     # each key's total name weight
    dates: tuple[tuple[Date, ...], ...]           # each key's dates
    variants: dict[str, str]                      # surface word -> name word (plural and possessive forms)
    postings: dict[str, tuple[int, ...]]          # name word -> the keys holding it
    vocabulary: frozenset[str]                    # every word of the units and the question (folded)
    dated: bool                                   # some unit carries a date


@lru_cache(maxsize=65536)
def unit_index(units: tuple[str, ...], question: str) -> UnitIndex:
    """The :class:`UnitIndex` of a problem's units (cached: re-scoring many generations of a problem builds it
    once)."""
    by_key: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        by_key.setdefault(" ".join(unit.split()), []).append(i)
    keys = tuple(by_key)
    words = [{stem(w) for w in _WORD.findall(fold(key))} for key in keys]
    dates = tuple(tuple(dates_of(key)) for key in keys)
    year_words = {str(d[0]) for ds in dates for d in ds}
    names = [{w for w in ws if w not in FUNCTION_WORDS and w not in MONTHS and not w.isdigit()
              and w not in year_words} for ws in words]
    df: dict[str, int] = {}
    for ws in names:
        for w in ws:
            df[w] = df.get(w, 0) + 1
    n = len(keys)
    weights = tuple({w: math.log(n / df[w]) for w in ws} for ws in names)
    postings: dict[str, list[int]] = {}
    for k, ws in enumerate(names):
        for w in ws:
            postings.setdefault(w, []).append(k)
    variants = {}
    for w in df:
        for form in (w, w + "s", w + "'s", w + "es"):
            variants.setdefault(form, w)
    vocabulary = frozenset(w for text in (*keys, question) for w in _WORD.findall(fold(text)))
    vocabulary |= {stem(w) for w in vocabulary}
    return UnitIndex(keys, tuple(tuple(v) for v in by_key.values()), weights,
                     tuple(sum(ws.values()) for ws in weights), dates, variants,
                     {w: tuple(ks) for w, ks in postings.items()}, vocabulary, any(dates))


@dataclass(frozen=True, slots=True)
class Citation:
    """A unit a clause states: the unit's key index and the clause (as written) that states it."""

    key: int
    clause: str


@dataclass(frozen=True, slots=True)
class StepJudgement:
    """What the reasoning's retrieval step states: the cited unit indices (sorted), the clause citing each key,
    ``hallucinated`` (``None`` where no unit carries a date) and the clauses that made it so."""

    cited: tuple[int, ...]
    citations: tuple[Citation, ...]
    hallucinated: bool | None
    invented: tuple[str, ...]


def _named(index: UnitIndex, words: set[str]) -> dict[int, frozenset[str]]:
    """Keys whose name weight the clause's ``words`` hold at least ``NAME_SHARE`` of -> the name words matched."""
    hits: dict[int, set[str]] = {}
    for surface in words:
        word = index.variants.get(surface)
        if word is None:
            continue
        for k in index.postings[word]:
            hits.setdefault(k, set()).add(word)
    named = {}
    for k, matched in hits.items():
        total = index.totals[k]
        weight = sum(index.names[k][w] for w in matched)
        own_word = len(index.keys) > 2 and any(len(index.postings[w]) == 1 for w in matched)
        if (weight >= NAME_SHARE * total and (weight > 0 or total == 0)) or own_word:
            named[k] = frozenset(matched)
    return named


def _undominated(named: dict[int, frozenset[str]], keep: set[int]) -> set[int]:
    return {k for k in keep if not any(j != k and named[j] > named[k] for j in keep)}


def judge_steps(units: tuple[str, ...], question: str, reasoning: str) -> StepJudgement:
    """The units ``reasoning`` states and whether it asserts a dated fact that no unit holds (module docstring)."""
    index = unit_index(units, question)
    cited: dict[int, str] = {}
    invented_clauses: list[str] = []
    for sentence in _SENTENCE.split(reasoning):
        if not sentence.strip():
            continue
        folded = fold(sentence)
        clauses = _CLAUSE.split(sentence) if (" and " in folded or " but " in folded or " whil" in folded
                                              or " whereas " in folded) else [sentence]
        sentence_dates = dates_of(sentence) if index.dated else []
        for clause in clauses:
            words = set(_WORD.findall(fold(clause)))
            named = _named(index, words)
            clause_dates = dates_of(clause) if sentence_dates else []
            if not index.dated:
                for k in _undominated(named, set(named)):
                    cited.setdefault(k, clause)
                continue
            own_dates = bool(clause_dates)
            dates = clause_dates or sentence_dates
            if not dates:
                continue
            invented = [d for d in dates if not any(_compatible(d, ds) for ds in index.dates)]
            stated = {k for k in named if any(_compatible(d, index.dates[k]) for d in dates)}
            if own_dates and (invented and (named or _unknown_entity(clause, index))
                              or named and not stated or not named and _unknown_entity(clause, index)):
                invented_clauses.append(clause.strip())
            if invented:
                continue
            for k in _undominated(named, stated):
                cited.setdefault(k, clause)
    citations = tuple(Citation(k, clause.strip()) for k, clause in sorted(cited.items()))
    unit_ids = tuple(sorted(i for k in cited for i in index.indices[k]))
    return StepJudgement(unit_ids, citations, bool(invented_clauses) if index.dated else None,
                         tuple(invented_clauses))


def _unknown_entity(clause: str, index: UnitIndex) -> bool:
    """A capitalised word (not opening a sentence) that the context and question never use."""
    for word in _CAPITALISED.findall(clause):
        folded = fold(word)
        if folded not in index.vocabulary and folded not in FUNCTION_WORDS and folded not in MONTHS:
            return True
    return False


@lru_cache(maxsize=64)
def _label_pattern(phrases: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    owner = {fold(p): label for label, ps in phrases for p in ps}
    alternatives = "|".join(re.escape(p) for p in sorted(owner, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b"), owner


def _phrases(spec: DatasetSpec) -> tuple[tuple[str, tuple[str, ...]], ...]:
    mapping: Mapping[str, tuple[str, ...]] = spec.label_phrases
    return tuple((label, tuple(mapping[label])) for label in mapping)


def judge_label(spec: DatasetSpec, reasoning: str) -> tuple[str | None, str | None]:
    """(the label the reasoning names, the sentence naming it), or ``(None, None)``; see the module docstring.
    Datasets without ``label_phrases`` name no label."""
    if not spec.label_phrases:
        return None, None
    pattern, owner = _label_pattern(_phrases(spec))
    cues = tuple(fold(c) for c in spec.label_cue)
    found: tuple[str | None, str | None] = (None, None)
    for sentence in _SENTENCE.split(reasoning):
        folded = fold(sentence)
        cue_at = min((m.start() for c in cues for m in re.finditer(rf"\b{re.escape(c)}\b", folded)), default=None)
        if cues and cue_at is None:
            continue
        mentions = [(m.start(), owner[m.group(0)]) for m in pattern.finditer(folded)
                    if not _NEGATION.search(folded[max(0, m.start() - 24):m.start()])]
        if not mentions or len({label for _, label in mentions}) >= 3 and ("," in folded or " or " in folded):
            continue  # the options listed, not a choice
        after = [label for at, label in mentions if cue_at is None or at > cue_at]
        found = (after[0] if after else mentions[-1][1], sentence.strip())
    return found
