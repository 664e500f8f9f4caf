"""Trace interventions: prefill the model's turn with a chosen trace and judge only the answer.

A condition renders a forced trace prefix with the trace format's own code (:func:`render_trace`, and
:func:`perturb` with the seed of the ``incorrect`` SFT variant); lm-eval's ``gen_prefix`` delivers it,
and the answer is judged by the dataset's strict answer rule. ``follows_trace`` says whether the answer
is what the forced units support (the rule is in docs/interventions.md and :func:`follows_trace`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracekd_ext.adapters import get_spec
from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.errors import TracekdError
from tracekd_ext.record import Problem
from tracekd_ext.scoring import score
from tracekd_ext.text import normalize_answer
from tracekd_ext.trace_format import PERTURB_SEED, render_trace
from tracekd_ext.trace_format import perturb as perturb_steps
from tracekd_ext.trace_parse import ANSWER_CLOSE, ANSWER_OPEN, THINK_CLOSE, THINK_OPEN, parse

# condition -> (CLS step: "gold" / "wrong" / None, IR step: "gold" / "wrong" / None)
CONDITIONS: dict[str, tuple[str | None, str | None]] = {
    "gold": ("gold", "gold"),
    "wrong_cls": ("wrong", "gold"),
    "wrong_ret": ("gold", "wrong"),
    "wrong_both": ("wrong", "wrong"),
    "no_trace": (None, None),
    "cls_only": ("gold", None),
}
# condition -> what its forced trace holds, in words
CONDITION_TEXT = {
    "gold": "gold label and gold units",
    "wrong_cls": "wrong label, gold units",
    "wrong_ret": "gold label, wrong units",
    "wrong_both": "wrong label and wrong units",
    "no_trace": "an empty trace",
    "cls_only": "gold label, no retrieval step",
}
CORRUPTIONS = ("wrong_cls", "wrong_ret", "wrong_both")
KIND = "intervene"  # the task kind of intervention docs (``doc["kind"]``)
# inline: the trace format as trained (``<think>X</think> <answer>``); block: the layout Qwen3-style chat
# templates render a think block in (``<think>\nX\n</think>\n\n <answer>``), which they keep verbatim.
LAYOUTS = ("inline", "block")


@dataclass(frozen=True, slots=True)
class ForcedTrace:
    """The trace a condition forces on one problem.

    ``label`` / ``support``: the forced CLS label and IR units (``None`` where the step is left out);
    ``prefix``: the assistant-turn prefix, ending in ``<answer>``; ``perturbed``: whether every step the
    condition corrupts really differs from gold (for IR: disjoint from the gold units and free of every
    gold answer); ``None`` for conditions that corrupt nothing.
    """

    condition: str
    label: str | None
    support: tuple[int, ...] | None
    prefix: str
    perturbed: bool | None


def check_condition(condition: str) -> str:
    if condition not in CONDITIONS:
        raise TracekdError(f"unknown intervention condition '{condition}'; choose from {', '.join(CONDITIONS)}")
    return condition


def prefix_of(spec: DatasetSpec, label: str | None, units: list[str] | None, layout: str = "inline") -> str:
    """The trace rendered by :func:`render_trace`, cut after ``<answer>`` (the model writes the rest)."""
    if layout not in LAYOUTS:
        raise TracekdError(f"unknown think layout '{layout}'; choose from {', '.join(LAYOUTS)}")
    prefix = render_trace(spec, label, units, "").removesuffix(ANSWER_CLOSE)
    if layout == "block":
        think = prefix[len(THINK_OPEN): prefix.index(THINK_CLOSE)].strip("\n")
        prefix = f"{THINK_OPEN}\n{think}\n{THINK_CLOSE}\n\n {ANSWER_OPEN}"
    return prefix


def _answer_free(problem: Problem, support: list[int]) -> bool:
    answers = [normalize_answer(a) for a in problem.answers]
    text = " ".join(normalize_answer(problem.units[i]) for i in support)
    return all(a not in text for a in answers if a)


def force(problem: Problem, spec: DatasetSpec, condition: str, *, seed: int = PERTURB_SEED,
          layout: str = "inline") -> ForcedTrace:
    """The forced trace of ``condition``: wrong steps come from one seeded :func:`perturb` draw of both
    steps (the ``incorrect`` SFT variant's), so ``wrong_both`` = ``wrong_cls``'s label + ``wrong_ret``'s units."""
    cls_step, ir_step = CONDITIONS[check_condition(condition)]
    wrong_label, wrong_units = perturb_steps(problem, spec, seed=seed, avoid_answers=True)
    label = {"gold": problem.label, "wrong": wrong_label, None: None}[cls_step]
    support = {"gold": list(problem.support), "wrong": wrong_units, None: None}[ir_step]
    perturbed = None
    if cls_step == "wrong" or ir_step == "wrong":
        perturbed = True
        if cls_step == "wrong":
            perturbed = wrong_label != problem.label
        if ir_step == "wrong":
            gold_texts = {problem.units[i] for i in problem.support}
            perturbed = perturbed and bool(wrong_units) and not gold_texts & {problem.units[i] for i in wrong_units} \
                and _answer_free(problem, wrong_units)
    units = None if support is None else [problem.units[i] for i in support]
    return ForcedTrace(condition, label, None if support is None else tuple(support),
                       prefix_of(spec, label, units, layout), perturbed)


@dataclass(frozen=True, slots=True)
class InterventionScore:
    """The judgement of one answer written after a forced trace (``follows`` is ``None`` where undefined)."""

    answer_correct: bool
    answer_f1: float
    answer_items: tuple[str, ...]
    follows: bool | None


def follows_trace(problem: Problem, condition: str, support: tuple[int, ...] | None,
                  answer_items: tuple[str, ...]) -> bool | None:
    """Whether the answer is what the forced units support.

    Defined only when the condition forces units that determine an answer: with gold units (``gold``,
    ``wrong_cls``) when every gold answer occurs in them; with wrong units (``wrong_ret``,
    ``wrong_both``) when they are non-empty, share no text with the gold units and contain no gold answer.
    Then it holds iff the answer has items and every (normalised) item occurs in the forced units' text
    and, for wrong units, in none of the gold units' text.
    """
    if support is None or not support:
        return None
    golds = [normalize_answer(a) for a in problem.answers]
    forced_text = " ".join(normalize_answer(problem.units[i]) for i in support)
    gold_text = " ".join(normalize_answer(problem.units[i]) for i in problem.support)
    if CONDITIONS[condition][1] == "gold":
        if not problem.support or not all(g in gold_text for g in golds):
            return None
        return bool(answer_items) and all(item in forced_text for item in answer_items)
    gold_texts = {problem.units[i] for i in problem.support}
    if gold_texts & {problem.units[i] for i in support} or any(g and g in forced_text for g in golds):
        return None
    return bool(answer_items) and all(item in forced_text and item not in gold_text for item in answer_items)


def score_intervention(problem: Problem, spec: DatasetSpec, condition: str, support: tuple[int, ...] | None,
                       prefix: str, generation: object) -> InterventionScore:
    """Judge the answer the model wrote after ``prefix``: the generation is read as the continuation of the
    prefix (the same :func:`parse`) and scored by the dataset's strict answer rule."""
    text = generation if isinstance(generation, str) else ("" if generation is None else str(generation))
    judged = score(problem, parse(prefix + text), spec, "strict", "direct")
    return InterventionScore(judged.answer_correct, judged.answer_f1, judged.answer_items,
                             follows_trace(problem, condition, support, judged.answer_items))


def score_doc(doc: dict[str, Any], generation: object, *, problem: Problem | None = None) -> InterventionScore:
    """Judge one generation against its intervention task doc (the code ``process_results`` and the analysis
    share); ``problem``: the doc's record when the caller has read it already."""
    problem = Problem.from_dict(doc) if problem is None else problem
    support = doc.get("forced_support")
    return score_intervention(problem, get_spec(problem.dataset), doc["condition"],
                              None if support is None else tuple(int(i) for i in support), doc["gen_prefix"],
                              generation)
