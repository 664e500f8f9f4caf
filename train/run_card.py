"""``run.json``: what a training run was (config, data identity, versions) and what it did (steps, loss,
throughput), plus the ``tracekd eval`` command that evaluates it with its training prompt."""

from __future__ import annotations

import math
import os
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from tracekd_ext.data_source import resolve_data_dir
from tracekd_ext.json_safe import json_safe
from tracekd_train.chat_check import template_sha256
from tracekd_train.eval_hint import eval_argv, eval_command
from tracekd_train.prepared import PreparedRun
from tracekd_train.sft_data import ids_sha256

PACKAGES = ("tracekd", "torch", "transformers", "trl", "peft", "accelerate", "datasets", "bitsandbytes", "lm_eval")


def library_versions() -> dict[str, str | None]:
    """Installed versions of the packages a run depends on (``None`` where one is missing)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name.replace("_", "-"))
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _device() -> dict[str, Any]:
    import torch

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if torch.cuda.is_available():
        return {"type": "cuda", "name": torch.cuda.get_device_name(0), "world_size": world}
    return {"type": "cpu", "name": platform.processor() or platform.machine(), "world_size": world}


def _parameters(model: Any) -> dict[str, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"total": total, "trainable": trainable}


def _loss_history(log_history: list[dict[str, Any]]) -> list[list[float]]:
    return [[entry["step"], entry["loss"]] for entry in log_history if "loss" in entry and "step" in entry]


class Throughput(Protocol):
    """What the card reports of a training session's loop (``throughput.ThroughputCallback`` measures it)."""

    seconds: float
    tokens: int
    step_at_start: int


def build_run_card(prepared: PreparedRun, trainer: Any, result: Any, throughput: Throughput,
                   resumed_from: Path | None, merged: Path | None, wall_seconds: float) -> dict[str, Any]:
    """The run card of a finished training run."""
    config, data = prepared.config, prepared.data
    run_dir = str(config.train.output_dir)
    losses = _loss_history(trainer.state.log_history)
    argv = eval_argv(config, run_dir, prepared.template_vars, prepared.own_template)
    card = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dataset": data.dataset,
        "data_dir": str(resolve_data_dir(config.data.data_dir) or "(public source)"),
        "variant": data.variant,
        "method": config.method,
        "base_model": config.model.model_name_or_path,
        "seed": config.train.seed,
        "data_seed": config.data_seed,
        "config": config.to_dict(),
        "sizes": {
            "train_examples": len(data.examples),
            "test_problems": len(data.test_ids),
            "left_out_without_teacher_trace": len(data.dropped_ids),
            "parameters": _parameters(trainer.model),
        },
        "tokens": prepared.tokens.to_dict(),
        "data_sha256": data.sha256(),
        "train_ids_sha256": ids_sha256(data.train_ids),
        "test_ids_sha256": ids_sha256(data.test_ids),
        "chat_template": {"sha256": template_sha256(prepared.tokenizer.chat_template),
                          "variables": prepared.template_vars, "replaced": prepared.own_template},
        "versions": library_versions(),
        "device": _device(),
        "training": {
            "global_step": trainer.state.global_step,
            "global_batch_size": (trainer.args.per_device_train_batch_size * trainer.args.world_size
                                  * trainer.args.gradient_accumulation_steps),
            "epochs": trainer.state.epoch,
            "resumed_from": str(resumed_from) if resumed_from else None,
            "steps_this_session": trainer.state.global_step - throughput.step_at_start,
            "train_loss": result.training_loss,
            "first_loss": losses[0][1] if losses else None,
            "final_loss": losses[-1][1] if losses else None,
            "loss_history": losses,
            "train_seconds": throughput.seconds,
            "wall_seconds": wall_seconds,
            "tokens_seen": throughput.tokens,
            "tokens_per_second": throughput.tokens / throughput.seconds if throughput.seconds else math.nan,
        },
        "outputs": {
            "adapter": run_dir if config.model.use_peft else None,
            "model": None if config.model.use_peft else run_dir,
            "merged": str(merged) if merged else None,
        },
        "eval": {"argv": argv, "command": eval_command(argv)},
    }
    return json_safe(card)
