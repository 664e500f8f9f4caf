"""Helpers shared by the training tests: offline settings, the data copy, tiny models and run options."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from data_paths import require_data

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def data_dir() -> Path:
    """The offline data copy (the test is skipped without it, or fails under CI)."""
    return require_data()


def tiny_model(out_dir: Path, problems: int = 50) -> Path:
    """A tiny random Llama whose tokenizer was trained on CoTemp prompts and traces."""
    from tiny_model import build_tiny_model

    from tracekd_ext.adapters import get_spec
    from tracekd_ext.trace_format import render_prompt, render_target

    spec = get_spec("cotemp")
    corpus = [render_prompt(p, spec, instruction=True) + render_target(p, spec, "correct")
              for p in spec.load(data_dir(), "train")[:problems]]
    return build_tiny_model(out_dir, corpus)


def trl_template(name: str) -> Path:
    """A chat template that TRL ships (``qwen3``, ``llama3_2``, ...)."""
    import trl

    path = Path(trl.__file__).parent / "chat_templates" / f"{name}.jinja"
    if not path.is_file():
        pytest.skip(f"trl ships no {name}.jinja")
    return path


def smoke_args(model: Path, output_dir: Path, *extra: str) -> list[str]:
    """``tracekd train`` options of a 20-step LoRA smoke run on 4 problems (one repeated batch)."""
    return ["--model_name_or_path", str(model), "--output-dir", str(output_dir), "--data-dir", str(data_dir()),
            "--limit", "4", "--max-steps", "20", "--per-device-train-batch-size", "4",
            "--gradient-accumulation-steps", "1", "--learning-rate", "5e-3", "--max-length", "2048",
            "--logging-steps", "1", "--save-steps", "5", "--no-gradient-checkpointing", *extra]
