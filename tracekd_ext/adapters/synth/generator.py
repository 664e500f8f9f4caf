"""Synthetic co-temporal problems in the style of CoTemp QA, about fictional people and organisations.

Each problem states one event (the *anchor* fact, named in the question) and asks which entities of an
asked relation held at the same time. The facts use CoTemp QA's relation families and sentence
templates, the questions its five fact-pair patterns (``triple_element``: same or different Subject,
Relation, Object) and its co-temporal phrases. Gold answers are the entities of the asked pattern whose
span shares a day with the anchor's span; the label is the relation (:mod:`tracekd_ext.adapters.synth.time_spans`) they
stand in, or ``mix`` for several; the support is the facts that contain a gold answer (as for CoTemp QA).
Distractors are facts of the asked pattern whose spans are disjoint from the anchor's ("near misses") and
facts of other patterns at any time.

Problem ``index`` of a ``split`` depends only on ``(seed, split, index)`` and the options, so a larger
``size`` extends a smaller one, and the test and train splits are independent streams.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from tracekd_ext.adapters.synth.names import NamePool
from tracekd_ext.adapters.synth.time_spans import (
    CO_TEMPORAL,
    GRANULARITIES,
    MIX,
    Period,
    TimeSpan,
    question_label,
    relation,
)
from tracekd_ext.errors import TracekdError
from tracekd_ext.record import Problem

LABELS = (*CO_TEMPORAL, MIX)
TRIPLE_ELEMENTS = ("S1_R1_O2", "S1_R2_O2", "S2_R1_O1", "S2_R1_O2", "S2_R2_O2")
# CoTemp QA's co-temporal phrases (appended to every question).
CO_TEMPORAL_PHRASES = ("during the same time span", "within the same time interval", "during the same time period",
                       "at the same time", "during the identical time period", "concurrently", "simultaneously")
NEAR_MISS_SHARE = 0.6      # share of distractors that follow the asked pattern at a disjoint time
PAST_TENSE_SHARE = 0.3     # share of facts written in the past tense ("worked for"), as in CoTemp QA
POINT_SHARE = 0.3          # share of spans that are one period ("in 2003") rather than a range
FIRST_YEAR, LAST_YEAR = 1900, 2000   # the anchor starts in these years
LATEST_DAY = date(2025, 12, 31)      # no fact reaches past this day
MAX_TRIES = 400


@dataclass(frozen=True)
class Family:
    """A relation family: who relates to what, its fact templates and its question phrases."""

    name: str
    subject_kind: str
    object_kind: str
    present: str        # fact template phrase, as matched by the CoTemp answer rule
    past: str
    clause: str         # the question's event: "{s} was working for {o}"
    ask_object: str     # "which employer did {s} work for"
    ask_subject: str    # "who also worked for {o}"


FAMILIES = {f.name: f for f in (
    Family("position", "person", "role", "holds the position of", "held the position of",
           "{s} was holding the position of {o}", "which position did {s} hold", "who also held the position of {o}"),
    Family("member", "person", "party", "is a member of the", "was a member of the",
           "{s} was a member of the {o}", "which political party did {s} belong to",
           "who was also a member of the {o}"),
    Family("chair", "person", "body", "is the chair of", "was the chair of",
           "{s} was the chair of {o}", "which organisation did {s} chair", "who was also the chair of {o}"),
    Family("head", "person", "body", "is the head of", "was the head of",
           "{s} was the head of {o}", "which organisation did {s} head", "who was also the head of {o}"),
    Family("owned", "company", "owner", "is owned by", "was owned by",
           "{s} was owned by {o}", "by whom was {s} owned", "which other company was owned by {o}"),
    Family("attended", "person", "school", "attended", "attended",
           "{s} attended {o}", "which school did {s} attend", "who also attended {o}"),
    Family("works", "person", "employer", "works for", "worked for",
           "{s} was working for {o}", "which employer did {s} work for", "who also worked for {o}"),
    Family("plays", "person", "team", "plays for", "played for",
           "{s} was playing for {o}", "which team did {s} play for", "who was also playing for {o}"),
)}


@dataclass(frozen=True)
class Fact:
    subject: str
    family: Family
    object: str
    span: TimeSpan

    def render(self, past: bool) -> str:
        phrase = self.family.past if past else self.family.present
        return f"{self.subject} {phrase} {self.object} {self.span.render()}."


class _Redraw(Exception):
    """The drawn problem cannot carry the requested relations (e.g. an overlap with a one-day event)."""


def parse_relation_mix(value: object) -> dict[str, float]:
    """Label weights from a mapping, ``"equal=1,mix=2"`` or ``"equal,overlap"`` (uniform over those named).

    ``None`` or ``""``: all four labels equally often.
    """
    if value is None or value == "":
        return {label: 1.0 for label in LABELS}
    if isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        pairs = []
        for part in str(value).split(","):
            name, _, weight = part.strip().partition("=")
            pairs.append((name.strip(), weight.strip() or 1.0))
    weights: dict[str, float] = {}
    for name, weight in pairs:
        if name not in LABELS:
            raise TracekdError(f"relation_mix: unknown label '{name}'; choose from {', '.join(LABELS)}")
        try:
            weights[name] = float(weight)
        except (TypeError, ValueError):
            raise TracekdError(f"relation_mix: weight of '{name}' is not a number: {weight!r}") from None
        if weights[name] < 0:
            raise TracekdError(f"relation_mix: weight of '{name}' is negative")
    if sum(weights.values()) <= 0:
        raise TracekdError("relation_mix: give at least one label a positive weight")
    return weights


def _day_between(rng: random.Random, lo: date, hi: date) -> date:
    hi = min(hi, LATEST_DAY)
    if hi < lo:
        raise _Redraw
    return lo + timedelta(days=rng.randint(0, (hi - lo).days))


def _span(rng: random.Random, start: tuple[date, date], end: tuple[date, date], point_ok: bool = True) -> TimeSpan:
    """A random span: one period around a day of ``start``, or a range from ``start`` to ``end`` days."""
    first = _day_between(rng, *start)
    granularity = rng.choice(GRANULARITIES)
    if point_ok and rng.random() < POINT_SHARE:
        return TimeSpan(Period.of(first, granularity))
    last = _day_between(rng, *end)
    end_granularity = granularity if rng.random() < 0.7 else rng.choice(GRANULARITIES)
    begin, finish = Period.of(first, granularity), Period.of(last, end_granularity)
    if not begin.last_day < finish.first_day:
        raise _Redraw
    return TimeSpan(begin, finish)


def _years(n: int) -> timedelta:
    return timedelta(days=round(365.25 * n))


def anchor_span(rng: random.Random) -> TimeSpan:
    """The question's event: a point or a range of up to 15 years."""
    start = date(rng.randint(FIRST_YEAR, LAST_YEAR), 1, 1) + timedelta(days=rng.randint(0, 364))
    for _ in range(MAX_TRIES):
        try:
            return _span(rng, (start, start), (start + timedelta(days=40), start + _years(15)))
        except _Redraw:
            continue
    raise _Redraw


def span_in_relation(rng: random.Random, anchor: TimeSpan, wanted: str | None) -> TimeSpan:
    """A random span whose relation to ``anchor`` is ``wanted`` (``None``: disjoint), checked exactly."""
    if wanted == "equal":
        return anchor
    lo, hi = anchor.first_day, anchor.last_day
    before, after = (lo - _years(12), lo - timedelta(days=1)), (hi + timedelta(days=1), hi + _years(12))
    inside = (lo, hi)
    shapes = {
        "during": ((inside, inside), (before, after)),        # within the anchor, or around it
        "overlap": ((before, inside), (inside, after)),       # across its start, or across its end
        None: ((before, before), (after, after)),             # wholly before, or wholly after
    }[wanted]
    for _ in range(MAX_TRIES):
        start, end = rng.choice(shapes)
        try:
            span = _span(rng, start, end, point_ok=wanted != "overlap")
        except _Redraw:
            continue
        if relation(anchor, span) == wanted:
            return span
    raise _Redraw


def _answer_relations(rng: random.Random, label: str) -> list[str]:
    if label != MIX:
        return [label] * rng.choices((1, 2, 3), weights=(0.7, 0.25, 0.05))[0]
    while True:
        relations = rng.choices(CO_TEMPORAL, k=rng.choices((2, 3), weights=(0.75, 0.25))[0])
        if len(set(relations)) > 1:
            return relations


def _families(rng: random.Random, triple: str) -> tuple[Family, Family]:
    """The anchor's family and the asked family (a different one with the same subject kind for R2)."""
    if "_R2_" in triple:
        people = [f for f in FAMILIES.values() if f.subject_kind == "person"]
        anchor = rng.choice(people)
        return anchor, rng.choice([f for f in people if f is not anchor])
    family = rng.choice(list(FAMILIES.values()))
    return family, family


def _build(rng: random.Random, label: str, distractors: int) -> tuple[list[Fact], list[int], str, dict]:
    """Facts in context order, the positions of the answer facts, the question and the pattern's meta."""
    triple = rng.choice(TRIPLE_ELEMENTS)
    family, asked = _families(rng, triple)
    names = NamePool(rng)
    anchor = Fact(names.new(family.subject_kind), family, names.new(family.object_kind), anchor_span(rng))
    asks_subjects = triple == "S2_R1_O1"
    target = None if asks_subjects else anchor.subject if triple.startswith("S1") else names.new(asked.subject_kind)

    def asked_fact(span: TimeSpan) -> Fact:
        if asks_subjects:
            return Fact(names.new(family.subject_kind), family, anchor.object, span)
        return Fact(target, asked, names.new(asked.object_kind), span)

    def other_fact() -> Fact:
        known = [anchor.subject] + ([target] if target not in (None, anchor.subject) else [])
        subject = rng.choice(known) if rng.random() < 0.7 else names.new(family.subject_kind)
        kinds = [f for f in FAMILIES.values()
                 if f.subject_kind == family.subject_kind and not (subject == target and f is asked)]
        if not kinds:  # the asked subject has no other family (companies): a fact about another subject
            subject, kinds = names.new(family.subject_kind), [asked]
        other = rng.choice(kinds)
        return Fact(subject, other, names.new(other.object_kind), _any_span(rng, anchor.span))

    answers = [asked_fact(span_in_relation(rng, anchor.span, r)) for r in _answer_relations(rng, label)]
    others = [asked_fact(span_in_relation(rng, anchor.span, None)) if rng.random() < NEAR_MISS_SHARE
              else other_fact() for _ in range(distractors)]
    facts = [anchor, *answers, *others]
    order = list(range(len(facts)))
    rng.shuffle(order)
    clause = family.clause.format(s=anchor.subject, o=anchor.object)
    ask = family.ask_subject.format(o=anchor.object) if asks_subjects else asked.ask_object.format(s=target)
    question = f"While {clause}, {ask} {rng.choice(CO_TEMPORAL_PHRASES)}?"
    meta = {"triple_element": triple, "anchor": order.index(0), "family": family.name, "asked_family": asked.name,
            "asked_subject": target, "asked_object": anchor.object if asks_subjects else None}
    return [facts[i] for i in order], sorted(order.index(i) for i in range(1, 1 + len(answers))), question, meta


def _any_span(rng: random.Random, anchor: TimeSpan) -> TimeSpan:
    """A span anywhere within 12 years of the anchor, co-temporal with it or not."""
    lo, hi = anchor.first_day - _years(12), anchor.last_day + _years(12)
    for _ in range(MAX_TRIES):
        try:
            return _span(rng, (lo, hi), (lo + _years(1), hi + _years(1)))
        except _Redraw:
            continue
    raise _Redraw


def _problem_rng(seed: int, split: str, index: int) -> random.Random:
    return random.Random(f"tracekd-synth:{seed}:{split}:{index}")


def generate_problem(seed: int, split: str, index: int, *, distractors: int,
                     relation_mix: Mapping[str, float]) -> Problem:
    """Problem ``index`` of ``split``; equal arguments give an equal problem on every machine."""
    rng = _problem_rng(seed, split, index)
    labels = [label for label in LABELS if relation_mix.get(label, 0) > 0]
    label = rng.choices(labels, weights=[relation_mix[label] for label in labels])[0]
    for _ in range(MAX_TRIES):
        try:
            facts, answer_positions, question, meta = _build(rng, label, distractors)
            break
        except _Redraw:
            continue
    else:  # pragma: no cover - every label is reachable from most anchors
        raise TracekdError(f"synth: could not draw a '{label}' problem for seed {seed}, {split} {index}")
    units = tuple(fact.render(past=rng.random() < PAST_TENSE_SHARE) for fact in facts)
    answer_facts = [facts[i] for i in answer_positions]
    asks_subjects = meta["asked_object"] is not None
    answers = tuple(f.subject if asks_subjects else f.object for f in answer_facts)
    relations = [relation(facts[meta["anchor"]].span, f.span) for f in answer_facts]
    support = tuple(i for i, unit in enumerate(units) if any(a in unit for a in answers))
    if support != tuple(answer_positions) or any(a in question for a in answers):  # pragma: no cover - NamePool
        raise TracekdError(f"synth: problem {seed}/{split}/{index} has an answer outside its own facts")
    return Problem(
        id=f"synth/{seed}/{split}/{index}",
        dataset="synth",
        units=units,
        question=question,
        label=question_label(relations),
        support=support,
        answers=answers,
        meta={**meta, "relations": relations, "seed": seed, "split": split, "index": index},
    )


def generate(split: str, size: int, *, seed: int, distractors: int,
             relation_mix: Mapping[str, float]) -> list[Problem]:
    """``size`` problems of ``split`` (its own stream of problems: test and train never share one)."""
    if size < 0 or distractors < 0:
        raise TracekdError("synth: size and distractors must not be negative")
    return [generate_problem(seed, split, i, distractors=distractors, relation_mix=relation_mix)
            for i in range(size)]
