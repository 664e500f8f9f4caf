"""The ``tracekd eval`` command that evaluates a run with the prompt it was trained on.

Same task kind (trace variants: ``<dataset>_trace``; ``answer``: ``<dataset>_direct``), same instruction
flag (``--metadata``), same system turn (``--system_instruction``), same chat-template variables
(``chat_template_args`` in ``--model_args``; lm-eval 0.4.13's ``enable_thinking=True`` model arg demands
``think_end_token``, which deletes the trace before scoring, so it goes into ``chat_template_args`` too).
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from tracekd_ext.task_registry import TASKS
from tracekd_train.config import RunConfig
from tracekd_train.sft_data import BuildOptions


def eval_task(dataset: str, variant: str, with_instruction: bool) -> str | None:
    """The registered task that evaluates ``variant`` of ``dataset`` (``None`` if there is none)."""
    kind = "direct" if variant == "answer" and not with_instruction else "trace"
    return next((name for name, (ds, k) in TASKS.items() if ds == dataset and k == kind), None)


def model_args(config: RunConfig, run_dir: str, template_vars: dict[str, Any], own_template: bool) -> str:
    """``--model_args`` for lm-eval's ``hf`` backend: ``key=value`` pairs, or JSON when values need it."""
    if not config.model.use_peft:
        args: dict[str, Any] = {"pretrained": run_dir}
    else:
        args = {"pretrained": config.model.model_name_or_path, "peft": run_dir}
        if own_template:
            args["tokenizer"] = run_dir
    if config.train.trust_remote_code:
        args["trust_remote_code"] = True
    if template_vars:
        args["chat_template_args"] = template_vars
    plain = all(isinstance(v, (str, bool)) and "," not in str(v) and "=" not in str(v) for v in args.values())
    return ",".join(f"{k}={v}" for k, v in args.items()) if plain else json.dumps(args, ensure_ascii=False)


def eval_argv(config: RunConfig, run_dir: str, template_vars: dict[str, Any], own_template: bool) -> list[str] | None:
    """Arguments after ``tracekd eval`` (``None`` if no task evaluates this dataset and variant)."""
    options = BuildOptions(variant=config.data.variant, instruction=config.data.instruction)
    task = eval_task(config.data.dataset, config.data.variant, options.with_instruction)
    if task is None:
        return None
    argv = ["--model", "hf", "--model_args", model_args(config, run_dir, template_vars, own_template),
            "--tasks", task, "--apply_chat_template", "--num_fewshot", "0"]
    metadata: dict[str, Any] = dict(config.data.dataset_options)
    if TASKS[task][1] == "trace" and not options.with_instruction:
        metadata["instruction"] = False
    if config.data.data_dir:
        metadata["data_dir"] = config.data.data_dir
    if metadata:
        argv += ["--metadata", json.dumps(metadata, ensure_ascii=False)]
    if config.data.system_prompt:
        argv += ["--system_instruction", config.data.system_prompt]
    return argv


def eval_command(argv: list[str] | None) -> str | None:
    return None if argv is None else shlex.join(["tracekd", "eval", *argv])
