"""Judging the steps of free-form reasoning against a problem's units: which units it states, which label it
names, and whether it asserts a dated fact that no unit holds. Deterministic, linear in the reasoning's length.

Units are identified by their content. A unit's *name* is its content words (entities, roles, organisations,
places, objects: every word but function words and the words of the relation templates), each weighted by how
rare it is among the problem's units (idf), so the words every unit shares (CoTemp's subject) count for nothing
and the word that sets a unit apart counts most. A unit's *dates* are its (year, month) pairs; days are ignored.

The reasoning is cut into sentences (at ``.``/``!``/``?`` before a space, line breaks and ``;``) and sentences
into clauses (at ``and``, ``but``, ``while``, ``whereas``, except between numbers). A clause **states** a unit when

- it holds at least half of the unit's name weight (``NAME_SHARE``; equal in exact arithmetic counts as half:
  ``TIE``), in any order and inflection (plural ``s``);
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

The retrieval step is judged by the compiled judge (``_judge.c``: the unit index, the pass over the reasoning,
folding) where it was built, else by the pure-Python judge here (:class:`NameTables`, :func:`_judge_text`): the same
rules and verdicts (``tests/test_free_form_compiled.py``), several times slower.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import chain, compress, count, repeat, starmap
from operator import add
from typing import NamedTuple

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.frozen_build import builder

try:  # the compiled judge (setup.py builds it where a C compiler is found)
    from tracekd_ext.free_form import _judge as _compiled
except ImportError:  # pragma: no cover - a wheel or checkout built without a compiler
    _compiled = None
COMPILED = _compiled is not None  # the compiled judge was built
# the judge in use: the compiled one unless TRACEKD_PURE_PYTHON is set (None: pure Python, the same verdicts, slower)
_judge = None if os.environ.get("TRACEKD_PURE_PYTHON") else _compiled

NAME_SHARE = 0.5  # share of a unit's name weight a clause must hold to name it
# Idf weights are logs of ratios, so sums that are equal in exact arithmetic occur (log 3 + log 2 + log 1.5 is
# 2 log 3) and differ in floating point by the order of the additions: a weight within TIE (relative) of the half
# is the half.
TIE = 1e-12
AT_LEAST, MORE_THAN = 1 - TIE, 1 + TIE  # total >= half * AT_LEAST: at least half; total > half * MORE_THAN: more
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
_WORD = re.compile(r"[^\W_]+(?:'s)?")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")  # accent marks
# one pass over the reasoning: words, and the separators that end a sentence ([.!?] before a space, ";", a line end)
_TOKEN = re.compile(r"[^\W_]+(?:'s)?|[.!?](?=\s|$)|[;\n]")
_SEPARATOR = re.compile(r"[.!?](?=\s|$)|[;\n]")
_CAPITALISED = re.compile(r"(?<![.!?:\n]\s)(?<!^)\b[A-Z][a-z]+")
_NEGATION = re.compile(r"(?:\bnot|n't|\bno)\s+(?:an?\s+|the\s+)?(?:\w+\s+)?$")
# token events: a sentence end, a conjunction (a clause end), a month (1-12), a year (its value), a name word
SENTENCE_END, CONJUNCTION, NAME_WORDS = -2, -1, 10_000  # every event is truthy (itertools.compress keeps them)
_EVENTS: dict[str, int] = {**{str(year): year for year in range(1000, 2200)}, **MONTHS,
                           **dict.fromkeys((".", "!", "?", ";", "\n"), SENTENCE_END),
                           **dict.fromkeys(("and", "but", "while", "whilst", "whereas"), CONJUNCTION)}
MONTH_REACH = 2  # a month names the year that follows it within this many tokens ("March 3, 2001")
_YEARS = frozenset(range(1000, 2200))
Date = tuple[int, int | None]
# _TOKEN's tokens of ASCII text by C-level passes (:func:`_ascii_tokens`): a separator reads as SEPARATOR, a
# word's possessive "'s" as POSSESSIVE
SEPARATOR, POSSESSIVE = "\x02", "\x01"
_EVENTS[SEPARATOR] = SENTENCE_END
_SPACES = str.maketrans(dict.fromkeys("\t\r\x0b\x0c\x1c\x1d\x1e\x1f", " "))  # ASCII whitespace of \s, but \n
_NON_TOKEN = str.maketrans({chr(c): " " for c in range(128)
                            if not chr(c).isalnum() and chr(c) not in (SEPARATOR, POSSESSIVE)})
_NOT_NAMES = FUNCTION_WORDS.union(_EVENTS)  # tokens that are never a unit's name word
_LOOSE_POSSESSIVE = re.compile(r"(?<![a-z0-9])\x01|\x01(?=[a-z0-9])")  # "'s" that _TOKEN does not attach
if _compiled is not None:
    assert (_compiled.SENTENCE_END, _compiled.CONJUNCTION, _compiled.NAME_WORDS, _compiled.MONTH_REACH,
            _compiled.TIE) == (SENTENCE_END, CONJUNCTION, NAME_WORDS, MONTH_REACH, TIE), (
        "the compiled judge is out of date: rebuild it (pip install -e .)")
    _compiled.configure(_EVENTS, FUNCTION_WORDS)


def fold(text: str) -> str:
    """Lower case, compatibility forms unified and accents dropped (``Horváth`` reads as ``horvath``); ASCII text
    is only lower-cased.

    Decomposition, dropping accents and case folding act character by character, and an ASCII character ends any
    reordering of accents, so the ASCII characters are lower-cased (as bytes) and each run of others is folded
    alone (cached: a text's names recur)."""
    if text.isascii():
        return text.lower()
    if _judge is not None:
        return _judge.fold(text, _fold_chars)
    lowered = text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")  # ASCII letters only
    return _NON_ASCII.sub(_fold_run, lowered)


@lru_cache(maxsize=65536)
def _fold_chars(run: str) -> str:
    return _COMBINING.sub("", unicodedata.normalize("NFKD", run)).casefold()


def _fold_run(match: re.Match[str]) -> str:
    return _fold_chars(match.group())


@lru_cache(maxsize=16)
def fold_reasoning(text: str) -> str:
    """:func:`fold`, cached for the few texts in hand (the step and label judges read the same reasoning)."""
    return fold(text)


def stem(word: str) -> str:
    """A word's comparison form: possessive and plural ``s`` dropped."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


def _token_dates(tokens: list[str]) -> list[Date]:
    found, month, month_at = [], None, -MONTH_REACH - 1
    for i, token in enumerate(tokens):
        event = _EVENTS.get(token)
        if event is None or event < 1:
            continue
        if event <= 12:
            month, month_at = event, i
        else:
            found.append((event, month if i - month_at <= MONTH_REACH else None))
            month = None
    return found


def _ascii_tokens(text: str) -> list[str] | None:
    """``_TOKEN.findall(text)`` for folded ASCII text, in C-level passes (translate, replace, split) instead of
    one regex match per token: a separator as ``SEPARATOR``, a word's ``'s`` as ``POSSESSIVE``. ``None`` where
    the text is not ASCII or holds an ``'s`` that does not end a word (the regex reads those)."""
    if not text.isascii() or SEPARATOR in text or POSSESSIVE in text:
        return None
    text = text.translate(_SPACES)
    if "'s" in text:
        text = text.replace("'s", POSSESSIVE)
        if _LOOSE_POSSESSIVE.search(text):
            return None
    for mark in ".!?":  # [.!?] before whitespace or at the end
        if mark in text:
            text = text.replace(mark + " ", SEPARATOR + " ").replace(mark + "\n", SEPARATOR + "\n")
            if text.endswith(mark):
                text = text[:-1] + SEPARATOR
    text = text.replace("\n", SEPARATOR).replace(";", SEPARATOR).translate(_NON_TOKEN)
    return text.replace(SEPARATOR, " " + SEPARATOR + " ").split()


def tokens_of(folded: str) -> list[str]:
    """The words and separators of folded text (``_TOKEN``), read by :func:`_ascii_tokens` where it can."""
    tokens = _ascii_tokens(folded)
    return _TOKEN.findall(folded) if tokens is None else tokens


def dates_of(text: str) -> list[Date]:
    """The (year, month) pairs ``text`` states: a year from 1000 to 2199, with the month named just before it
    ("March 3, 2001", "3 March 2001" read 2001 without a month: a month after the day is not read; numeric months
    such as 2001-03 are not read either)."""
    return _token_dates(_TOKEN.findall(fold(text)))


def use_compiled_judge(enabled: bool) -> None:
    """Judge with the compiled judge (where it was built) or in pure Python; the cached unit indexes, which hold
    one or the other's tables, are dropped."""
    global _judge
    _judge = _compiled if enabled else None
    unit_index.cache_clear()


@dataclass(frozen=True)
class UnitIndex:
    """Per problem: the distinct unit texts (whitespace-normalised) and the unit indices of each, whether a unit
    carries a date, and the compiled judge's index of them (``None`` without it). What few texts need (the pure-Python
    judge's tables, the words the context knows) is built when first asked for."""

    units: tuple[str, ...]
    question: str
    keys: tuple[str, ...]
    indices: tuple[tuple[int, ...], ...]
    dated: bool
    compiled: object | None  # ``_judge.build``'s index of the keys

    @cached_property
    def tables(self) -> NameTables:
        """The pure-Python judge's tables (:func:`_judge_text`)."""
        names, dates = zip(*map(unit_content, self.keys), strict=True) if self.keys else ((), ())
        return name_tables(names, dates)

    @cached_property
    def known(self) -> frozenset[str]:
        """Every word of the units and the question (folded, also stemmed): what the context knows of."""
        folded = fold("\n".join((*self.units, self.question)))  # fold acts per character
        if _judge is not None:
            return _judge.words(folded)
        words = set(_WORD.findall(folded))
        return frozenset(words | {stem(w) for w in words})


@lru_cache(maxsize=65536)
def unit_index(units: tuple[str, ...], question: str) -> UnitIndex:
    """The :class:`UnitIndex` of a problem's units (cached: re-scoring many generations of a problem builds it
    once). ``question`` is part of the key only for :attr:`UnitIndex.known`'s sake."""
    if _judge is not None:
        return UnitIndex(units, question, *_judge.build(units, NAME_SHARE, _fold_chars))
    by_key: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        by_key.setdefault(" ".join(unit.split()), []).append(i)
    keys = tuple(by_key)
    dated = any(dates for _, dates in map(unit_content, keys))
    return UnitIndex(units, question, keys, tuple(map(tuple, by_key.values())), dated, None)


@dataclass(frozen=True, slots=True)
class NameTables:
    """The pure-Python judge's tables of a problem: each key's name words as ids (``NAME_WORDS`` on, in sorted word
    order), weighted by idf over the keys (a word every key holds is left out: it tells nothing), each key's half
    weight (``NAME_SHARE`` of its words' weights, summed in ascending id order as the compiled judge sums), and
    every token's event (the name words' forms over ``_EVENTS``). Which keys a date meets and the keys of each name
    word are filled in when first asked for."""

    words: tuple[frozenset[int], ...]             # each key's name word ids
    halves: tuple[float, ...]                     # each key's total name weight times NAME_SHARE
    weights: tuple[float, ...]                    # name word id - NAME_WORDS -> idf weight
    single: tuple[bool, ...]                      # name word id - NAME_WORDS -> held by one key only
    events: dict[str, int]                        # token -> event (see SENTENCE_END ...); name words >= NAME_WORDS
    dates: tuple[frozenset[Date], ...]            # each key's (year, month or None) dates
    years: tuple[frozenset[int], ...]             # each key's years
    dated: bool                                   # some unit carries a date
    date_keys: dict[Date, tuple[int, ...]]        # a date a text gives -> the keys it meets (:func:`date_keys`)
    postings: list[tuple[int, ...]]               # name word id - NAME_WORDS -> the keys holding it (:func:`_named`)


# a name word's forms in a text, in the order that decides a form two words share (the word with the shorter
# suffix, the later in sorted order, holds it)
_FORMS = ("es", "'s", POSSESSIVE, "s", "")


def _half(weights: tuple[float, ...], words: frozenset[int]) -> float:
    total = 0.0
    for w in sorted(words):  # ascending ids, one addition at a time: the compiled judge's sum
        total += weights[w - NAME_WORDS]
    return NAME_SHARE * total


def name_tables(names: tuple[frozenset[str], ...], dates: tuple[frozenset[Date], ...]) -> NameTables:
    """The :class:`NameTables` of the keys' name words and dates."""
    df = Counter(chain.from_iterable(names))
    n = len(names)
    informative = sorted(w for w, count in df.items() if count < n)  # a word every unit holds tells nothing
    ids = dict(zip(informative, count(NAME_WORDS)))
    key_words = tuple(frozenset(map(ids.get, ws)).difference((None,)) for ws in names)
    counts = list(map(df.__getitem__, informative))
    weights = tuple(math.log(n / c) for c in counts)
    events = _EVENTS.copy()
    for form in _FORMS:
        events.update(zip(map(add, informative, repeat(form)), ids.values(), strict=True))
    return NameTables(key_words, tuple(_half(weights, ws) for ws in key_words), weights,
                      tuple(c == 1 for c in counts), events, dates,
                      tuple(frozenset(year for year, _ in ds) for ds in dates), any(dates), {}, [])


def date_keys(tables: NameTables, date: Date) -> tuple[int, ...]:
    """The keys whose dates ``date`` meets: the same year, and the same month where both give one (a month 0, taken
    by a year before, meets only a date without one). Kept in ``tables.date_keys``: a problem's texts give few."""
    found = tables.date_keys.get(date)
    if found is None:
        year, month = date
        if month is None:
            found = tuple(k for k, years in enumerate(tables.years) if year in years)
        else:
            found = tuple(k for k, ds in enumerate(tables.dates) if (year, None) in ds or date in ds)
        tables.date_keys[date] = found
    return found


@lru_cache(maxsize=262144)
def unit_content(key: str) -> tuple[frozenset[str], frozenset[Date]]:
    """A unit text's name words (stemmed, before idf) and its (year, month or None) dates (cached per unit text:
    problems that share units, as CoTemp's questions about one subject do, read each once)."""
    tokens = _TOKEN.findall(fold(key))
    names = frozenset(stem(token) for token in set(tokens).difference(_NOT_NAMES) if not token.isdigit())
    dates = set()
    found = list(map(_EVENTS.get, tokens))
    month, month_at = None, -MONTH_REACH - 1
    for i in compress(count(), found):  # the events (every one is truthy)
        event = found[i]
        if 1 <= event <= 12:
            month, month_at = event, i
        elif event >= 1000:
            dates.add((event, month if i - month_at <= MONTH_REACH else None))
            month = None
    return names, frozenset(dates)


class Citation(NamedTuple):
    """A unit a sentence states: the unit's key index and the sentence's number (:func:`sentence_text`)."""

    key: int
    sentence: int


@dataclass(frozen=True, slots=True)
class StepJudgement:
    """What the reasoning's retrieval step states: the cited unit indices (sorted), the sentence citing each key,
    ``hallucinated`` (``None`` where no unit carries a date) and the sentences (as written) that made it so."""

    cited: tuple[int, ...]
    citations: tuple[Citation, ...]
    hallucinated: bool | None
    invented: tuple[str, ...]


_step_judgement = builder(StepJudgement)  # judge_steps makes one per generation


def _named(tables: NameTables, words: set[int]) -> set[int]:
    """Keys whose name weight ``words`` hold at least ``NAME_SHARE`` of, or one of whose own words (held by no
    other unit) they hold; for units without dates, more than ``NAME_SHARE`` of it."""
    weight: dict[int, float] = {}
    named = set()
    if not tables.postings:
        postings: list[list[int]] = [[] for _ in tables.weights]
        for k, ws in enumerate(tables.words):
            for w in ws:
                postings[w - NAME_WORDS].append(k)
        tables.postings.extend(map(tuple, postings))
    postings, weights, get = tables.postings, tables.weights, weight.get
    own_words = tables.dated and len(tables.words) > 2
    for w in sorted(words):  # ascending ids: the compiled judge's order of the sums
        w -= NAME_WORDS
        keys = postings[w]
        if own_words and len(keys) == 1:
            named.add(keys[0])
        idf = weights[w]
        for k in keys:
            weight[k] = get(k, 0.0) + idf
    halves = tables.halves
    if tables.dated:
        named.update(k for k, total in weight.items() if total >= halves[k] * AT_LEAST)
    else:  # no date to confirm the unit: more than half its weight, no single word
        named.update(k for k, total in weight.items() if total > halves[k] * MORE_THAN)
    return named


def _undominated(tables: NameTables, words: set[int], keep: set[int]) -> set[int]:
    if len(keep) < 2:
        return keep
    matched = {k: tables.words[k] & words for k in keep}
    return {k for k in keep if not any(j != k and matched[j] > matched[k] for j in keep)}


def _judge_undated(tables: NameTables, clauses: list[tuple[set[int], list[Date]]], at: int, cited: dict[int, int],
                   suspect: dict[int, bool]) -> None:
    """Citations of one sentence's clauses (``at``: the sentence's number) where no unit carries a date."""
    for words, _ in clauses:
        if words:
            for k in _undominated(tables, words, _named(tables, words)):
                cited.setdefault(k, at)


def _stated(tables: NameTables, words: set[int], candidates: set[int]) -> set[int]:
    """The keys that ``words`` name (:func:`_named`) among ``candidates`` (the keys a clause's dates meet): the same
    sums in the same order, for the few keys the dates leave."""
    stated = set()
    own_words = len(tables.words) > 2
    weights, single, halves = tables.weights, tables.single, tables.halves
    ordered = sorted(words)  # ascending ids: the compiled judge's order of the sums
    for k in candidates:
        key_words, total, held = tables.words[k], 0.0, False
        if key_words.isdisjoint(words):
            continue
        for w in ordered:
            if w in key_words:
                if own_words and single[w - NAME_WORDS]:  # a word of its own names it
                    held, total = True, halves[k]
                    break
                total += weights[w - NAME_WORDS]
                held = True
        if held and total >= halves[k] * AT_LEAST:
            stated.add(k)
    return stated


def _judge_dated(tables: NameTables, clauses: list[tuple[set[int], list[Date]]], at: int, cited: dict[int, int],
                 suspect: dict[int, bool]) -> None:
    """Citations of one sentence's clauses (``at``: the sentence's number) where units carry dates; a sentence that
    may assert a fact no unit holds goes to ``suspect`` (sentence -> whether an unknown entity must decide it)."""
    # dates as sets: whether a unit's date is among them is a set test on the smaller side (a unit meets few
    # dates), so a sentence of many clauses and dates is read in linear time
    borrowed = frozenset(d for _, dates in clauses for d in dates)
    if not borrowed:
        return
    keys_of = tables.date_keys.__getitem__  # judge_steps entered every date read
    borrowed_invented = not all(map(keys_of, borrowed))  # a date that meets no unit's
    borrowed_keys = set().union(*map(keys_of, borrowed))  # once per sentence: its clauses without dates share them
    for words, own in clauses:
        if own:
            given = frozenset(own)
            invented = not all(map(keys_of, given))
            candidates = set().union(*map(keys_of, given))
        elif borrowed_invented or not words:
            continue  # a clause without dates of its own that states nothing
        else:
            candidates, invented = borrowed_keys, False
        if not words:  # a dated statement about something no unit names: an unknown entity decides
            suspect.setdefault(at, True)
            continue
        stated = set() if invented else _stated(tables, words, candidates)
        if own and not stated:  # names a unit with a date of none it names, or names none
            if _named(tables, words):
                suspect[at] = False
            else:
                suspect.setdefault(at, True)
        for k in _undominated(tables, words, stated):
            cited.setdefault(k, at)


def sentence_text(reasoning: str, at: int) -> str:
    """Sentence number ``at`` of ``reasoning`` as written (sentences end at [.!?] before a space, ``;``, a line end)."""
    sentences = _SEPARATOR.split(reasoning)
    return sentences[at].strip() if 0 <= at < len(sentences) else ""


def _month_before(found: list[int | None], i: int) -> int | None:
    """The month of the year at token ``i``: the last month within ``MONTH_REACH`` tokens before it (0 when a
    year between took it), else ``None``."""
    taken = False
    for j in range(i - 1, max(i - MONTH_REACH, 0) - 1, -1):
        event = found[j]
        if event is None or event < 1 or event >= NAME_WORDS:
            continue
        if event <= 12:
            return 0 if taken else event
        taken = True  # a year
    return None


def _judge_text(tables: NameTables, folded: str) -> tuple[dict[int, int], dict[int, bool]]:
    """The pure-Python judge of folded reasoning: (key -> the first sentence stating it, sentence -> whether an
    unknown entity must decide that it asserts a fact no unit holds). ``_judge.judge`` reads the same."""
    tokens = tokens_of(folded)
    found = list(map(tables.events.get, tokens))  # the events, None for other words (in C)
    last = len(tokens) - 1
    found.append(SENTENCE_END)
    cited: dict[int, int] = {}
    suspect: dict[int, bool] = {}
    dated, known = tables.dated, tables.date_keys  # every date read is entered in date_keys
    start, sentence, end_of_text = 0, 0, len(found)
    while start < end_of_text:
        end = found.index(SENTENCE_END, start)
        # where units carry dates, a sentence without one states nothing (a year is a date)
        segment = found[start:end]
        if _YEARS.isdisjoint(segment) if dated else not any(segment):
            start, sentence = end + 1, sentence + 1
            continue
        clauses: list[tuple[set[int], list[Date]]] = []
        words: set[int] = set()
        dates: list[Date] = []
        for i in compress(count(start), segment):
            event = found[i]
            if event >= NAME_WORDS:
                words.add(event)
            elif event >= 1000:
                date = (event, _month_before(found, i))
                if date not in known:
                    date_keys(tables, date)
                dates.append(date)
            elif event == CONJUNCTION:
                if 0 < i < last and tokens[i - 1].isdigit() and tokens[i + 1].isdigit():
                    continue  # "1990 and 1999": one clause
                if words or dates:
                    clauses.append((words, dates))
                    words, dates = set(), []
        if words or dates:
            clauses.append((words, dates))
        if clauses:
            (_judge_dated if dated else _judge_undated)(tables, clauses, sentence, cited, suspect)
        start, sentence = end + 1, sentence + 1
    return cited, suspect


def judge_steps(units: tuple[str, ...], question: str, reasoning: str) -> StepJudgement:
    """The units ``reasoning`` states and whether it asserts a dated fact that no unit holds (module docstring)."""
    index = unit_index(units, question)
    folded = fold_reasoning(reasoning)
    cited, suspect = (_judge_text(index.tables, folded) if index.compiled is None
                      else _judge.judge(index.compiled, folded))
    invented: list[str] = []
    if suspect:
        sentences = _SEPARATOR.split(reasoning) if _judge is None else _judge.sentences(reasoning)
        known = index.known
        for at, needs_entity in suspect.items():
            text = sentences[at].strip() if at < len(sentences) else ""
            if not needs_entity or _unknown_entity(text, known):
                invented.append(text)
    citations = tuple(starmap(Citation, sorted(cited.items())))
    unit_ids = tuple(sorted(chain.from_iterable(map(index.indices.__getitem__, cited))))
    return _step_judgement(unit_ids, citations, bool(invented) if index.dated else None,
                           tuple(dict.fromkeys(invented)))


def _unknown_entity(text: str, known: frozenset[str]) -> bool:
    """A capitalised word (not opening the sentence) that the context and question never use."""
    for word in _CAPITALISED.findall(text):
        folded = fold(word)
        if folded not in known and folded not in FUNCTION_WORDS and folded not in MONTHS:
            return True
    return False


@lru_cache(maxsize=64)
def _label_patterns(phrases: tuple[tuple[str, tuple[str, ...]], ...], cues: tuple[str, ...]
                    ) -> tuple[re.Pattern[str], dict[str, str], re.Pattern[str] | None, tuple[str, ...]]:
    owner = {fold(p): label for label, ps in phrases for p in ps}
    alternatives = "|".join(re.escape(p) for p in sorted(owner, key=len, reverse=True))
    folded_cues = tuple(dict.fromkeys(fold(c) for c in cues))
    cue = "|".join(map(re.escape, folded_cues))
    # where a cue word occurs, one of these does: a cue that starts with another cue is left out
    probes = tuple(c for c in folded_cues if not any(c != d and c.startswith(d) for d in folded_cues))
    return (re.compile(rf"\b(?:{alternatives})\b"), owner, re.compile(rf"\b(?:{cue})\b") if cues else None,
            probes)


def _cue_starts(cue: re.Pattern[str], probes: tuple[str, ...], folded: str) -> list[int]:
    """Where ``cue.finditer(folded)`` finds its matches, by C-level ``str.find`` of the probe words (each cue word
    starts with one; the regex checks only where a probe occurs): sorted, non-overlapping as finditer's."""
    if not all(probes):
        return [m.start() for m in cue.finditer(folded)]
    places: set[int] = set()
    for word in probes:
        at = folded.find(word)
        while at >= 0:
            places.add(at)
            at = folded.find(word, at + 1)
    starts, free_from = [], 0
    for at in sorted(places):
        if at >= free_from and (match := cue.match(folded, at)) is not None:
            starts.append(at)
            free_from = match.end()
    return starts


def judge_label(spec: DatasetSpec, reasoning: str) -> tuple[str | None, str | None]:
    """(the label the reasoning names, the sentence naming it), or ``(None, None)``; see the module docstring.
    Datasets without ``label_phrases`` name no label."""
    if not spec.label_phrases:
        return None, None
    mapping: Mapping[str, tuple[str, ...]] = spec.label_phrases
    pattern, owner, cue, probes = _label_patterns(tuple(zip(mapping, map(tuple, mapping.values()), strict=True)),
                                                  tuple(spec.label_cue))
    folded = fold_reasoning(reasoning)
    cue_starts: list[int | None] = _cue_starts(cue, probes, folded) if cue is not None else [None]
    seen = len(folded) + 1
    for cue_start in reversed(cue_starts):  # the last sentence that names a label
        at = cue_start if cue_start is not None else len(folded)
        if at >= seen:
            continue  # a sentence with two cues: already read
        start, end = _sentence_bounds(folded, at)
        seen = start
        sentence = folded[start:end]
        cue_at = at - start if cue_start is not None else -1
        mentions = [(m.start(), owner[m.group(0)]) for m in pattern.finditer(sentence)
                    if not _NEGATION.search(sentence[max(0, m.start() - 24):m.start()])]
        if not mentions or len({label for _, label in mentions}) >= 3 and ("," in sentence or " or " in sentence):
            continue  # the options listed, not a choice
        after = [label for begin, label in mentions if begin > cue_at]
        shown = reasoning[start:end] if len(reasoning) == len(folded) else sentence
        return after[0] if after else mentions[-1][1], shown.strip()
    return None, None


# the separators of :func:`sentence_text` as a sentence's start sees them: ``;``, a line end, [.!?] before a space or a
# tab ([.!?] before a line end is followed by a later separator, the line end)
_SENTENCE_SEPARATORS = (";", "\n", *(mark + space for mark in ".!?" for space in " \t"))
_BOUND_WINDOW = 64  # characters before a position where its sentence's start is looked for first (then 8 times more)


def _sentence_bounds(text: str, at: int) -> tuple[int, int]:
    """Where the sentence holding position ``at`` starts and ends (the separators of :func:`sentence_text`)."""
    end = _SEPARATOR.search(text, at)
    # the last separator before ``at``, looked for in growing windows before it (one found in a window is the last):
    # linear in the sentence's length, not the text's
    width = _BOUND_WINDOW
    while True:
        low = max(0, at - width)
        start = max(map(text.rfind, _SENTENCE_SEPARATORS, repeat(low), repeat(at)))
        if start >= 0 or low == 0:
            return start + 1 if start >= 0 else 0, end.start() if end else len(text)
        width *= 8
