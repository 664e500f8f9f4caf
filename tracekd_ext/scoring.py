"""Scoring one parsed generation against its problem. Pure: no I/O, no global state
beyond caches of per-problem lookups.

strict (default): exact label, cited set equal to the gold support, the dataset's answer rule,
and whether the answer follows from the model's own citations (``grounded``).
paper: the published evaluation, defects included, to reproduce the paper's numbers. For CoTemp and
bAbI its answer is read from the whole generation by the published extraction
(``answer_rules.paper_answer_span``), the same for trace and answer-only (``*_direct``) tasks and for
answer-only generations scored by a trace task.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.answer_rules import AnswerScore, paper_answer_span
from tracekd_ext.errors import TracekdError
from tracekd_ext.frozen_build import builder
from tracekd_ext.record import Problem
from tracekd_ext.text import literal_strings, normalize_answer, precision_recall_f1, squash_spaces
from tracekd_ext.trace_format import THINK_CLOSE, THINK_OPEN
from tracekd_ext.trace_parse import ParsedTrace

MODES = ("strict", "paper")
KINDS = ("trace", "direct")


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleScore:
    """Every judgement about one generation. ``None`` marks a step that is not scored for this item
    (direct tasks; paper mode without a think part; grounding where the gold answer is not in the
    gold units)."""

    parse_ok: bool
    evaluated: bool
    cls_correct: bool | None
    ret_correct: bool | None
    ret_precision: float | None
    ret_recall: float | None
    ret_f1: float | None
    trace_correct: bool | None
    answer_correct: bool
    answer_f1: float
    grounded: bool | None
    pred_label: str | None
    cited: tuple[int, ...]
    uncited_items: int
    answer_items: tuple[str, ...]


# SampleScore from its fields in declaration order (parse_ok ... answer_items), without the keyword __init__'s cost.
_sample_score = builder(SampleScore)


@dataclass(frozen=True, slots=True)
class _UnitIndex:
    keys: tuple[str, ...]                    # whitespace-normalised unit texts, by unit index
    indices: dict[str, tuple[int, ...]]      # key -> the units with that text (duplicates share a key)
    raw_keys: dict[str, str]                 # unit text as given -> its key (skips normalising exact copies)
    by_length: tuple[str, ...]               # distinct keys, longest first (free-text citation matching)


@lru_cache(maxsize=131072)
def _unit_index(units: tuple[str, ...]) -> _UnitIndex:
    keys = tuple(squash_spaces(u) for u in units)
    indices: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        indices.setdefault(key, []).append(i)
    by_length = tuple(sorted(indices, key=len, reverse=True))
    return _UnitIndex(keys, {k: tuple(v) for k, v in indices.items()}, dict(zip(units, keys, strict=True)),
                      by_length)


@dataclass(frozen=True, slots=True)
class _GoldSteps:
    index: _UnitIndex
    keys: frozenset[str]     # the gold support's unit keys
    answer_in_units: bool    # every gold answer occurs in the gold units (grounding is defined)


@lru_cache(maxsize=131072)
def _gold_steps(units: tuple[str, ...], support: tuple[int, ...], answers: tuple[str, ...]) -> _GoldSteps:
    index = _unit_index(units)
    return _GoldSteps(index, frozenset(index.keys[i] for i in support), _answer_in_units(units, support, answers))


@lru_cache(maxsize=131072)
def _answer_in_units(units: tuple[str, ...], support: tuple[int, ...], answers: tuple[str, ...]) -> bool:
    gold_text = " ".join(normalize_answer(units[i]) for i in support)
    return bool(support) and all(normalize_answer(a) in gold_text for a in answers)


def gold_answer_in_units(problem: Problem) -> bool:
    """Whether grounding is defined for ``problem``: every gold answer occurs in its gold units."""
    return _answer_in_units(problem.units, problem.support, problem.answers)


def cite(units: tuple[str, ...], ir_text: str) -> tuple[set[str], int]:
    """The unit texts a retrieval step cites, and how many cited items match no unit.

    A list literal is read item by item (each item must equal a unit up to whitespace); free text
    cites every unit whose text it contains, longest first, each span used once.
    """
    return _cite(_unit_index(units), ir_text)


def _cite(index: _UnitIndex, ir_text: str) -> tuple[set[str], int]:
    items = literal_strings(ir_text)
    if items is not None:
        cited, unmatched = set(), 0
        for item in items:
            key = index.raw_keys.get(item)
            if key is None:
                key = squash_spaces(item)
            if key in index.indices:
                cited.add(key)
            else:
                unmatched += 1
        return cited, unmatched
    text, cited = squash_spaces(ir_text), set()
    for key in index.by_length:
        if key and key in text:
            cited.add(key)
            text = text.replace(key, "\x00")
    return cited, 0


def _answer_only(parse_ok: bool, pred_label: str | None, answer: AnswerScore) -> SampleScore:
    """A score whose steps are not evaluated: only the answer is judged."""
    return _sample_score(parse_ok, False, None, None, None, None, None, None, answer.correct, answer.f1, None,
                         pred_label, (), 0, answer.items)


def _strict(problem: Problem, parsed: ParsedTrace, spec: DatasetSpec, kind: str) -> SampleScore:
    if kind == "direct":
        answer = spec.score_answer(problem, parsed.direct_answer, "strict")
        return _answer_only(bool(parsed.direct_answer), None, answer)
    answer = spec.score_answer(problem, parsed.answer, "strict")
    gold = _gold_steps(problem.units, problem.support, problem.answers)
    label, ir_text = parsed.cls_label, parsed.ir_text
    cls_ok = label is not None and label.casefold() == problem.label.casefold()
    if ir_text is None:
        cited, unmatched, ret_ok, p, r, f1 = set(), 0, False, 0.0, 0.0, 0.0
    else:
        cited, unmatched = _cite(gold.index, ir_text)
        ret_ok = cited == gold.keys and unmatched == 0
        p, r, f1 = precision_recall_f1(len(cited & gold.keys), len(cited) + unmatched, len(gold.keys))
    indices = gold.index.indices
    cited_idx = tuple(sorted(i for key in cited for i in indices[key])) if cited else ()
    grounded = None
    if gold.answer_in_units:
        grounded = bool(answer.items) and bool(cited_idx)
        if grounded:
            cited_text = " ".join(map(normalize_answer, map(problem.units.__getitem__, cited_idx)))
            grounded = all(item in cited_text for item in answer.items)
    return _sample_score(parsed.trace_format_ok, True, cls_ok, ret_ok, p, r, f1, cls_ok and ret_ok, answer.correct,
                         answer.f1, grounded, label, cited_idx, unmatched, answer.items)


def _paper(problem: Problem, parsed: ParsedTrace, spec: DatasetSpec, kind: str) -> SampleScore:
    text = paper_answer_span(parsed.raw) if spec.paper_answer_span else parsed.answer
    answer = spec.score_answer(problem, text, "paper")
    close = parsed.raw.find(THINK_CLOSE)
    trace = parsed.raw[:close].replace(THINK_OPEN, "").strip() if close >= 0 else ""
    if kind == "direct" or not trace:
        return _answer_only(parsed.trace_format_ok if kind == "trace" else bool(parsed.direct_answer),
                            parsed.cls_label, answer)
    sentences = trace.split(".")
    at = spec.paper_cls_sentence
    sentence = sentences[at] if len(sentences) > at else ""
    cls_ok = problem.label.lower() in sentence.lower() if at else problem.label in sentence
    cited_idx = tuple(i for i, unit in enumerate(problem.units) if unit in trace)
    ret_ok = bool(cited_idx)
    return _sample_score(parsed.trace_format_ok, True, cls_ok, ret_ok, None, None, None, cls_ok and ret_ok,
                         answer.correct, answer.f1, None, parsed.cls_label, cited_idx, 0, answer.items)


def score(problem: Problem, parsed: ParsedTrace, spec: DatasetSpec, mode: str = "strict",
          kind: str = "trace") -> SampleScore:
    """Score one parsed generation; ``kind`` is ``trace`` (steps and answer) or ``direct`` (answer only)."""
    if mode not in MODES:
        raise TracekdError(f"unknown scoring mode '{mode}'; choose from {', '.join(MODES)}")
    if kind not in KINDS:
        raise TracekdError(f"unknown task kind '{kind}'; choose from {', '.join(KINDS)}")
    return (_paper if mode == "paper" else _strict)(problem, parsed, spec, kind)
