"""The SFT datasets (variants answer, cls, correct, incorrect, teacher) in TRL's conversational
prompt-completion format.

Prompts and targets come from ``tracekd_ext.trace_format``, the code the lm-eval tasks render their
docs with, so the trained format is the evaluated format: the user turn is the task's prompt (with the
trace-format instruction where the evaluating task shows it), the assistant turn the variant's target.
Training problems come from the adapter's train split; a build that would let a test id into training
is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tracekd_ext.adapters import get_spec
from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.data_source import resolve_data_dir
from tracekd_ext.errors import TracekdError
from tracekd_ext.record import Problem
from tracekd_ext.trace_format import PERTURB_SEED, PERTURBABLE_STEPS, render_prompt, render_target, wrap_trace
from tracekd_train.config import SFT_VARIANTS, RunConfig
from tracekd_train.teacher import load_teacher_traces

Example = dict[str, Any]


@dataclass(frozen=True)
class BuildOptions:
    """How problems become examples. ``instruction=None`` takes the evaluating task's default."""

    variant: str = "correct"
    instruction: bool | None = None
    system_prompt: str | None = None
    seed: int = PERTURB_SEED
    perturb_steps: tuple[str, ...] = PERTURBABLE_STEPS
    perturb_probability: float = 1.0

    def __post_init__(self) -> None:
        if self.variant not in SFT_VARIANTS:
            raise TracekdError(f"unknown variant '{self.variant}'; choose from {', '.join(SFT_VARIANTS)}")

    @property
    def with_instruction(self) -> bool:
        """Trace variants are evaluated by the ``*_trace`` tasks, which show the instruction by default;
        ``answer`` by the ``*_direct`` tasks, which never do."""
        return self.variant != "answer" if self.instruction is None else self.instruction


@dataclass(frozen=True)
class SFTData:
    """The built examples and what identifies them."""

    dataset: str
    variant: str
    examples: list[Example]
    test_ids: tuple[str, ...]
    dropped_ids: tuple[str, ...] = ()

    @property
    def train_ids(self) -> list[str]:
        return [example["id"] for example in self.examples]

    def jsonl(self) -> str:
        return examples_jsonl(self.examples)

    def sha256(self) -> str:
        return hashlib.sha256(self.jsonl().encode("utf-8")).hexdigest()


def prompt_messages(problem: Problem, spec: DatasetSpec, options: BuildOptions) -> list[dict[str, str]]:
    """The prompt turns: an optional system turn and the task's user prompt."""
    system = [{"role": "system", "content": options.system_prompt}] if options.system_prompt else []
    return [*system, {"role": "user", "content": render_prompt(problem, spec, instruction=options.with_instruction)}]


def target_text(problem: Problem, spec: DatasetSpec, options: BuildOptions, teacher_trace: str | None = None) -> str:
    """The assistant turn: the variant's target (a teacher trace wraps around the gold answer)."""
    if options.variant == "teacher":
        if teacher_trace is None:
            raise TracekdError(f"no teacher trace for problem '{problem.id}'")
        return wrap_trace(teacher_trace, spec.render_answer(problem))
    return render_target(problem, spec, options.variant, seed=options.seed, perturb_steps=options.perturb_steps,
                         perturb_probability=options.perturb_probability)


def sft_example(problem: Problem, spec: DatasetSpec, options: BuildOptions,
                teacher_trace: str | None = None) -> Example:
    """One conversational prompt-completion example, with the problem id."""
    return {
        "id": problem.id,
        "prompt": prompt_messages(problem, spec, options),
        "completion": [{"role": "assistant", "content": target_text(problem, spec, options, teacher_trace)}],
    }


def check_no_leakage(train_ids: Iterable[str], test_ids: Iterable[str]) -> None:
    """Refuse training data that holds a test problem."""
    leaked = sorted(set(train_ids) & set(test_ids))
    if leaked:
        raise TracekdError(f"{len(leaked)} test problem(s) would enter training (first: {', '.join(leaked[:3])}); "
                           "refusing to build the SFT dataset")


def build_examples(problems: Sequence[Problem], spec: DatasetSpec, options: BuildOptions, test_ids: Iterable[str],
                   teacher_traces: dict[str, str] | None = None,
                   allow_missing_teacher: bool = False) -> tuple[list[Example], list[str]]:
    """Examples for ``problems`` and the ids dropped for lack of a teacher trace; refuses leaked test ids
    and (unless allowed) problems without a teacher trace."""
    check_no_leakage((p.id for p in problems), test_ids)
    traces = teacher_traces or {}
    dropped: list[str] = []
    if options.variant == "teacher":
        dropped = [p.id for p in problems if p.id not in traces]
        if dropped and not allow_missing_teacher:
            raise TracekdError(f"the teacher traces lack {len(dropped)} of {len(problems)} training problems (first: "
                               f"{', '.join(dropped[:3])}); pass --teacher-allow-missing to train without them")
        problems = [p for p in problems if p.id in traces]
    return [sft_example(p, spec, options, traces.get(p.id)) for p in problems], dropped


def examples_jsonl(examples: Iterable[Example]) -> str:
    """The canonical serialisation (what ``sft_train.jsonl`` holds and the data hash covers)."""
    return "".join(json.dumps(example, ensure_ascii=False) + "\n" for example in examples)


def ids_sha256(ids: Iterable[str]) -> str:
    """Order-free hash of a set of problem ids."""
    return hashlib.sha256("\n".join(sorted(set(ids))).encode("utf-8")).hexdigest()


def build_sft_data(config: RunConfig) -> SFTData:
    """Load the adapter's train and test splits and build the configured variant."""
    data = config.data
    spec = get_spec(data.dataset)
    options = BuildOptions(variant=data.variant, instruction=data.instruction, system_prompt=data.system_prompt,
                           seed=config.data_seed, perturb_steps=tuple(data.perturb_steps),
                           perturb_probability=data.perturb_probability)
    unknown = sorted(set(data.dataset_options) - set(spec.options))
    if unknown:
        raise TracekdError(f"dataset '{spec.name}' has no option '{unknown[0]}'"
                           + (f"; its options: {', '.join(spec.options)}" if spec.options else ""))
    data_dir = resolve_data_dir(data.data_dir)
    train = list(spec.load(data_dir, "train", **data.dataset_options))
    try:
        test_ids = tuple(p.id for p in spec.load(data_dir, "test", **data.dataset_options))
    except TracekdError as err:
        raise TracekdError(f"cannot determine the test split for the leakage check: {err}") from None
    if data.limit is not None:
        train = train[:data.limit]
    if not train:
        raise TracekdError(f"no training problems in dataset '{spec.name}'")
    teacher = load_teacher_traces(data.teacher_traces) if data.variant == "teacher" else None
    examples, dropped = build_examples(train, spec, options, test_ids, teacher, data.teacher_allow_missing)
    if not examples:
        raise TracekdError("no training examples left after dropping problems without a teacher trace")
    return SFTData(spec.name, data.variant, examples, test_ids, tuple(dropped))
