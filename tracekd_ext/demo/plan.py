"""The demo's sizes and the command lines that run each stage without the demo.

The defaults are sized by ``bench/bench_demo.py`` on a 2-core CPU (see BENCHMARKS.md, "Demo"): short
problems (one distractor fact), one gold-trace example before tuning (the same for every problem, so its
prefill is shared) and none after, generation that stops
at ``</answer>`` with a token budget fitted to the longest gold trace, evaluation through ``tracekd-hf`` in
batches of 48, a few LoRA steps at a high rate.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracekd_ext.generation import MODEL_NAME
from tracekd_ext.task_registry import family_of

SYNTH_TASK, REAL_TASK = "cotemp_synth_trace", "cotemp_trace"
INTERVENTION_CONDITIONS = ("gold", "wrong_ret", "no_trace")
INTERVENTION_TASK = "cotemp_synth_intervene_{}"

DEFAULT_LIMIT = 48
DEFAULT_FEWSHOT = 1
# lm-eval's few-shot sampler for the baseline: "first_n" shows every problem the same first training examples,
# so all prompts share them as a prefix (prefilled once); "default" draws them per problem
FEWSHOT_SAMPLERS = ("first_n", "default")
DEFAULT_DISTRACTORS = 1
DEFAULT_BATCH_SIZE = 48  # all 48 problems decode together: a step reads the weights once for every row
DEFAULT_TRAIN_EXAMPLES = 24
DEFAULT_TRAIN_STEPS = 6
DEFAULT_TRAIN_BATCH = 4
DEFAULT_LEARNING_RATE = 1e-3
GEN_TOKS_MARGIN = 16  # new tokens beyond the longest gold trace (or answer) of the evaluated items


@dataclass(frozen=True)
class GenerationBudgets:
    """New-token budgets fitted to the evaluated problems: ``trace`` for free generation (the whole trace and
    answer), ``answer`` for the interventions (the model writes only the answer after a forced trace)."""

    trace: int
    answer: int


@dataclass(frozen=True)
class DemoPlan:
    """Everything the stages need; ``model`` is a folder or hub id, ``dtype`` lm-eval's ``dtype=``, ``budgets``
    the new-token budgets (0: not fitted yet)."""

    model: str
    dtype: str
    limit: int
    num_fewshot: int
    distractors: int
    batch_size: int
    device: str
    budgets: GenerationBudgets
    fewshot_sampler: str
    train_examples: int
    train_steps: int
    train_batch: int
    learning_rate: float
    seed: int | None
    data_dir: str | None
    out: Path
    tasks: list[str] = field(default_factory=lambda: [SYNTH_TASK])

    @property
    def adapter_dir(self) -> Path:
        return self.out / "adapter"

    def metadata(self) -> dict[str, Any]:
        """Task options that differ from the tasks' defaults (lm-eval's ``--metadata``)."""
        metadata: dict[str, Any] = {"distractors": self.distractors}
        if self.seed is not None:
            metadata["seed"] = self.seed
        if self.limit > family_of(SYNTH_TASK).metadata["size"]:  # more problems than the task generates
            metadata["size"] = self.limit
        if self.data_dir:
            metadata["data_dir"] = self.data_dir
        return metadata

    def dataset_options(self) -> dict[str, Any]:
        """The synthetic generator's options for the training split (the same problems' shape as the test)."""
        options: dict[str, Any] = {"distractors": self.distractors, "size": max(self.train_examples, 1)}
        if self.seed is not None:
            options["seed"] = self.seed
        return options

    def model_args(self, adapter: Path | None = None) -> dict[str, str]:
        args = {"pretrained": self.model, "dtype": self.dtype}
        if adapter is not None:
            args["peft"] = str(adapter)
        return args

    def train_args(self) -> list[str]:
        """``tracekd train`` options: LoRA on the ``correct`` variant of the synthetic train split."""
        return ["--model_name_or_path", self.model, "--dataset", "synth", "--variant", "correct",
                "--dataset_options", json.dumps(self.dataset_options()), "--limit", str(self.train_examples),
                "--use_peft", "true", "--lora_dropout", "0", "--dtype", self.dtype, "--bf16", "false",
                "--max_steps", str(self.train_steps), "--per_device_train_batch_size", str(self.train_batch),
                "--gradient_accumulation_steps", "1", "--learning_rate", str(self.learning_rate),
                "--warmup_steps", "0", "--lr_scheduler_type", "constant", "--gradient_checkpointing", "false",
                "--logging_steps", "1", "--save_steps", str(self.train_steps + 1),
                "--output_dir", str(self.adapter_dir)]


def eval_command(model_args: dict[str, str], tasks: list[str], num_fewshot: int, plan: DemoPlan,
                 output_path: Path, max_gen_toks: int | None, metadata: dict[str, Any]) -> str:
    """The ``tracekd eval`` (lm-eval CLI) command line that runs the same evaluation."""
    parts = ["tracekd", "eval", "--model", MODEL_NAME,
             "--model_args", ",".join(f"{k}={v}" for k, v in model_args.items()),
             "--tasks", ",".join(tasks), "--num_fewshot", str(num_fewshot), "--apply_chat_template",
             "--limit", str(plan.limit), "--device", plan.device, "--batch_size", str(plan.batch_size),
             "--output_path", str(output_path), "--log_samples"]
    if max_gen_toks:
        parts += ["--gen_kwargs", f"max_gen_toks={max_gen_toks}"]
    if metadata:
        parts += ["--metadata", json.dumps(metadata)]
    return shlex.join(parts)


def fewshot_task_files(plan: DemoPlan) -> dict[str, Path]:
    """Per task, the task file (in ``out/tasks``) with the plan's few-shot sampler; none for lm-eval's default."""
    if plan.fewshot_sampler == "default":
        return {}
    return {task: fewshot_task_file(task, plan.fewshot_sampler, plan.out / "tasks") for task in plan.tasks}


def fewshot_task_file(task: str, sampler: str, folder: Path) -> Path:
    """A task YAML in ``folder`` that is ``task`` with lm-eval's ``fewshot_config.sampler`` set to ``sampler``
    (same task name; for ``--tasks FILE``)."""
    from tracekd_ext.files.outputs import write_file
    from tracekd_ext.task_registry import tasks_dir

    source = next(Path(tasks_dir()).rglob(f"{task}.yaml"))
    return write_file(folder / f"{task}.yaml", f"# {task} with lm-eval's few-shot sampler {sampler}\n"
                      f"include: {json.dumps(str(source.resolve()))}\nfewshot_config:\n  sampler: {sampler}\n")


def train_command(plan: DemoPlan) -> str:
    return shlex.join(["tracekd", "train", *plan.train_args()])


def fitted_budgets(model: str, plan_limit: int, metadata: dict[str, Any]) -> GenerationBudgets:
    """The longest gold trace and the longest gold answer of the first ``plan_limit`` test problems, in the
    model's tokens, each plus a margin: generation stops at ``</answer>``, so a budget only bounds generations
    that never close the answer."""
    from transformers import AutoTokenizer

    from tracekd_ext.adapters import get_spec
    from tracekd_ext.trace_format import render_target

    spec = get_spec("synth")
    options = {k: v for k, v in metadata.items() if k in spec.options}
    problems = spec.load(None, "test", **options)[:plan_limit]
    tokenizer = AutoTokenizer.from_pretrained(model)

    def longest(texts) -> int:
        return max(len(tokenizer(text)["input_ids"]) for text in texts)

    return GenerationBudgets(trace=longest(render_target(p, spec, "correct") for p in problems) + GEN_TOKS_MARGIN,
                             answer=longest(spec.render_answer(p) for p in problems) + GEN_TOKS_MARGIN)
