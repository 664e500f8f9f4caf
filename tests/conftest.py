"""Shared fixtures: offline mode, the local data copy, and a tiny real HF model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("TRACEKD_TEST_DATA_DIR", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "cotempqa").is_dir():
        pytest.skip(f"offline data copy not found at {DATA_DIR} (set TRACEKD_TEST_DATA_DIR)")
    return DATA_DIR


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
