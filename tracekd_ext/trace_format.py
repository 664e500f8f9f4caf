"""Rendering of prompts and trace targets (SPEC 4): the one source of the format that tasks show,
trainers learn and tests round-trip."""

from __future__ import annotations

import random
from collections.abc import Iterable

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.errors import TracekdError
from tracekd_ext.record import Problem

VARIANTS = ("answer", "cls", "correct", "incorrect")
PERTURBABLE_STEPS = ("cls", "ret")

PROMPT = "Answer the question based on the context:\n{context}\nQuestion: {question} Only return the answer.\n"


def render_context(problem: Problem, spec: DatasetSpec) -> str:
    """CoTemp and MARCO show the Python list repr of the units, bAbI one story line per line."""
    if spec.context_style == "list":
        return repr(list(problem.units))
    return "\n".join(problem.units)


def trace_instruction(spec: DatasetSpec) -> str:
    """Describes the trace format so that models never trained on it can comply."""
    example_cls = spec.cls_sentence.format(label="<label>").strip()
    return (
        "Reply in exactly this format: <think>{classification}{retrieval}</think> <answer>{answer}</answer>.\n"
        f"In <think>, first classify the question with the sentence \"{example_cls}\" where <label> is one of: "
        f"{', '.join(spec.labels)}. Then write \"{spec.ir_intro}\" followed by a Python list of the {spec.unit_noun} "
        f"you need, each copied exactly from the context. In <answer>, give {spec.answer_format}.\n"
    )


def render_prompt(problem: Problem, spec: DatasetSpec, *, instruction: bool = False) -> str:
    """The user turn: the paper's prompt, optionally followed by the trace-format instruction."""
    prompt = PROMPT.format(context=render_context(problem, spec), question=problem.question)
    return prompt + trace_instruction(spec) if instruction else prompt


def wrap_trace(think: str, answer: str) -> str:
    """``<think>{think}</think> <answer>{answer}</answer>``: the trace skeleton every trace target uses."""
    return f"<think>{think}</think> <answer>{answer}</answer>"


def render_trace(spec: DatasetSpec, label: str | None, units: Iterable[str] | None, answer: str) -> str:
    """``<think>{CLS}{IR}</think> <answer>{answer}</answer>``; without a label or units that step is left out."""
    think = ""
    if label is not None:
        think += spec.cls_sentence.format(label=label)
    if units is not None:
        think += spec.ir_intro + repr(list(units))
    return wrap_trace(think, answer)


def perturb(problem: Problem, spec: DatasetSpec, *, seed: int, steps: Iterable[str] = PERTURBABLE_STEPS,
            probability: float = 1.0) -> tuple[str, list[int]]:
    """A wrong label and/or wrong support for an incorrect trace (SPEC 4), seeded per problem id.

    CLS: a label drawn uniformly from the other labels. IR: ``spec.wrong_unit_count`` units outside
    the gold support (fewer when the context has fewer); when every unit is gold, all gold units but one
    (so the cited set is still wrong, possibly empty). Each chosen
    step is perturbed with ``probability``; the result does not depend on the order of problems.
    """
    steps = set(steps)
    unknown = steps - set(PERTURBABLE_STEPS)
    if unknown:
        raise TracekdError(f"unknown perturbed step(s) {sorted(unknown)}; choose from {', '.join(PERTURBABLE_STEPS)}")
    rng = random.Random(f"{seed}:{problem.id}")
    label, support = problem.label, list(problem.support)
    if "cls" in steps and rng.random() < probability:
        label = rng.choice([lab for lab in spec.labels if lab != problem.label])
    if "ret" in steps and rng.random() < probability:
        gold = set(problem.support)
        others = [i for i in range(len(problem.units)) if i not in gold]
        if others:
            k = min(len(others), max(1, spec.wrong_unit_count(problem)))
            support = sorted(rng.sample(others, k))
        else:  # every unit is gold: cite all but one of them (none if there is only one)
            support = sorted(rng.sample(support, len(support) - 1))
    return label, support


def render_target(problem: Problem, spec: DatasetSpec, variant: str, *, seed: int = 42,
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
