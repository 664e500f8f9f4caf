"""Rendering of prompts and trace targets from each dataset's DatasetSpec: the one source of the format that tasks show,
trainers learn and tests round-trip."""

from __future__ import annotations

import random
from collections.abc import Iterable

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.errors import TracekdError
from tracekd_ext.record import Problem
from tracekd_ext.text import normalize_answer, squash_spaces

VARIANTS = ("answer", "cls", "correct", "incorrect")
PERTURBABLE_STEPS = ("cls", "ret")
PERTURB_SEED = 42  # default seed of incorrect traces' perturbations (SFT data, export, interventions)

# The trace's tags: written here, read by the parser (trace_parse), checked in chat templates (train.chat_check)
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"

PROMPT = "Answer the question based on the context:\n{context}\nQuestion: {question} Only return the answer.\n"


def render_context(problem: Problem, spec: DatasetSpec) -> str:
    """CoTemp and MARCO show the Python list repr of the units, bAbI one story line per line."""
    if spec.context_style == "list":
        return repr(list(problem.units))
    return "\n".join(problem.units)


def trace_instruction(spec: DatasetSpec, labels: Iterable[str] | None = None) -> str:
    """Describes the trace format so that models never trained on it can comply (``labels``: the label set
    to list, default ``spec.labels``)."""
    example_cls = spec.cls_sentence.format(label="<label>").strip()
    label_list = ", ".join(spec.labels if labels is None else labels)
    return (
        f"Reply in exactly this format: {THINK_OPEN}{{classification}}{{retrieval}}{THINK_CLOSE} "
        f"{ANSWER_OPEN}{{answer}}{ANSWER_CLOSE}.\n"
        f"In {THINK_OPEN}, first classify the question with the sentence \"{example_cls}\" where <label> is one of: "
        f"{label_list}. Then write \"{spec.ir_intro}\" followed by a Python list of the {spec.unit_noun} "
        f"you need, each copied exactly from the context. In {ANSWER_OPEN}, give {spec.answer_format}.\n"
    )


def render_prompt(problem: Problem, spec: DatasetSpec, *, instruction: bool = False) -> str:
    """The user turn: the paper's prompt, optionally followed by the trace-format instruction."""
    prompt = PROMPT.format(context=render_context(problem, spec), question=problem.question)
    return prompt + trace_instruction(spec, spec.labels_for(problem)) if instruction else prompt


def wrap_trace(think: str, answer: str) -> str:
    """``<think>{think}</think> <answer>{answer}</answer>``: the trace skeleton every trace target uses."""
    return f"{THINK_OPEN}{think}{THINK_CLOSE} {ANSWER_OPEN}{answer}{ANSWER_CLOSE}"


def render_trace(spec: DatasetSpec, label: str | None, units: Iterable[str] | None, answer: str) -> str:
    """``<think>{CLS}{IR}</think> <answer>{answer}</answer>``; without a label or units that step is left out."""
    think = ""
    if label is not None:
        think += spec.cls_sentence.format(label=label)
    if units is not None:
        think += spec.ir_intro + repr(list(units))
    return wrap_trace(think, answer)


def perturb(problem: Problem, spec: DatasetSpec, *, seed: int, steps: Iterable[str] = PERTURBABLE_STEPS,
            probability: float = 1.0, avoid_answers: bool = False) -> tuple[str, list[int]]:
    """A wrong label and/or wrong support for an incorrect trace, seeded per problem id.

    CLS: a label drawn uniformly from the other labels of the problem's label set (the gold label when
    there is no other). IR: see :func:`wrong_support`. Each chosen step is perturbed with ``probability``;
    the result does not depend on the order of problems.
    """
    steps = set(steps)
    unknown = steps - set(PERTURBABLE_STEPS)
    if unknown:
        raise TracekdError(f"unknown perturbed step(s) {sorted(unknown)}; choose from {', '.join(PERTURBABLE_STEPS)}")
    rng = random.Random(f"{seed}:{problem.id}")
    label, support = problem.label, list(problem.support)
    if "cls" in steps and rng.random() < probability:
        others = [lab for lab in spec.labels_for(problem) if lab != problem.label]
        label = rng.choice(others) if others else problem.label
    if "ret" in steps and rng.random() < probability:
        support = wrong_support(problem, spec, rng, avoid_answers=avoid_answers)
    return label, support


def wrong_support(problem: Problem, spec: DatasetSpec, rng: random.Random, *,
                  avoid_answers: bool = False) -> list[int]:
    """Units for a wrong IR step: ``spec.wrong_unit_count`` units whose text is not a gold unit's text
    (all of them when the context has fewer); with ``avoid_answers``, only units that contain no gold
    answer (normalised) wherever the context has such units (trace interventions). When every unit repeats a
    gold text (e.g. bAbI stories whose lines all support the answer), the gold support minus every unit of one
    gold text: a proper subset,
    the empty list for a single gold text. Only a context without units keeps the (empty) gold support."""
    keys = [squash_spaces(unit) for unit in problem.units]
    gold_keys = {keys[i] for i in problem.support}
    others = [i for i, key in enumerate(keys) if key not in gold_keys]
    if avoid_answers:
        answers = [normalize_answer(a) for a in problem.answers]
        clean = [i for i in others if not any(a and a in normalize_answer(problem.units[i]) for a in answers)]
        others = clean or others
    if others:
        k = min(len(others), max(1, spec.wrong_unit_count(problem)))
        return sorted(rng.sample(others, k))
    if not gold_keys:
        return list(problem.support)
    dropped = rng.choice(sorted(gold_keys))
    return [i for i in problem.support if keys[i] != dropped]


def render_target(problem: Problem, spec: DatasetSpec, variant: str, *, seed: int = PERTURB_SEED,
                  perturb_steps: Iterable[str] = PERTURBABLE_STEPS, perturb_probability: float = 1.0) -> str:
    """The assistant output that a model trained on ``variant`` should produce for ``problem``."""
    answer = spec.render_answer(problem)
    if variant == "answer":
        return answer
    if variant == "cls":
        return render_trace(spec, problem.label, None, answer)
    if variant == "correct":
        return render_trace(spec, problem.label, problem.support_units, answer)
    if variant == "incorrect":
        label, support = perturb(problem, spec, seed=seed, steps=perturb_steps, probability=perturb_probability)
        return render_trace(spec, label, [problem.units[i] for i in support], answer)
    raise TracekdError(f"unknown variant '{variant}'; choose from {', '.join(VARIANTS)}")
