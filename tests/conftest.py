"""Shared fixtures: offline mode, the local data copy, and a tiny real HF model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from data_paths import require_data

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The offline data copy (``$TRACEKD_DATA_DIR``): skipped without it, saying where it looked; under CI a
    failure."""
    return require_data()


@pytest.fixture(scope="session")
def cotemp_spec():
    from tracekd_ext.adapters import get_spec

    return get_spec("cotemp")


@pytest.fixture(scope="session")
def cotemp_problems(data_dir, cotemp_spec):
    return list(cotemp_spec.load(data_dir, "all"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, data_dir, cotemp_spec) -> Path:
    """A tiny random Llama whose tokenizer was trained on CoTemp prompts and traces."""
    from tiny_model import build_tiny_model

    from tracekd_ext.trace_format import render_prompt, render_target

    problems = cotemp_spec.load(data_dir, "train")[:150]
    corpus = [render_prompt(p, cotemp_spec, instruction=True) + render_target(p, cotemp_spec, "correct")
              for p in problems]
    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"), corpus)
