"""The free-form task format: the prompt that lets a model reason in its own words, and the final-answer
convention it ends with.

The model reasons however it likes (in a think block when its chat template has one, or in plain prose) and
ends with a last line ``Answer: <answer>``; a ``\\boxed{...}`` answer is read too (:mod:`tracekd_ext.free_form.parse`).
Nothing of tracekd's trace format is asked for: the steps are judged from the prose
(:mod:`tracekd_ext.free_form.match`).
"""

from __future__ import annotations

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.record import Problem
from tracekd_ext.trace_format import render_context

ANSWER_PREFIX = "Answer:"
FREE_PROMPT = "Answer the question based on the context:\n{context}\nQuestion: {question}\n"


def free_instruction(spec: DatasetSpec, labels: tuple[str, ...]) -> str:
    """Ask for step-by-step reasoning that states the units it uses, then the final-answer line. Datasets that
    declare label phrases are also asked to name the label (their classification step)."""
    steps = f"Think step by step. State the {spec.unit_noun} from the context that you use."
    if spec.label_phrases:
        question = spec.cls_sentence.split("{label}")[0].strip().rstrip(":").strip()
        steps += f" Say what {question[0].lower()}{question[1:]} ({', '.join(labels)})."
    return f"{steps}\nEnd your reply with a last line of the form: {ANSWER_PREFIX} <answer>\n"


def render_free_prompt(problem: Problem, spec: DatasetSpec) -> str:
    """The user turn of a free-form task: the context, the question and :func:`free_instruction`."""
    prompt = FREE_PROMPT.format(context=render_context(problem, spec), question=problem.question)
    return prompt + free_instruction(spec, spec.labels_for(problem))


def render_free_target(problem: Problem, spec: DatasetSpec) -> str:
    """A gold reasoning in prose (few-shot examples, when asked for): the gold label in words where the
    dataset declares phrases, the gold units, then the answer line."""
    lines = []
    if spec.label_phrases:
        lines.append(spec.cls_sentence.format(label=problem.label).strip())
    lines += [f"The context says: {unit}" for unit in problem.support_units]
    answer = ", ".join(problem.answers)
    return "\n".join([*lines, f"{ANSWER_PREFIX} {answer}"])
