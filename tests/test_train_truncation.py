"""Training refuses runs that would silently train on nothing or on cut-off answers (issue 9, section 5)."""

from __future__ import annotations

import pytest
from train_helpers import data_dir, tiny_model

from tracekd_ext.cli import main
from tracekd_ext.errors import TracekdError
from tracekd_train.config import parse_config
from tracekd_train.trainer import prepare


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("tiny_trunc"), problems=20)


def dry_run(model_dir, *extra):
    return prepare(parse_config(["--model_name_or_path", str(model_dir), "--data-dir", str(data_dir()), "--limit", "4",
                                 "--dry-run", *extra]))


def test_examples_longer_than_max_length_are_counted_and_refused(model_dir, capsys):
    full = dry_run(model_dir, "--max-length", "100000").tokens
    shortest_prompt = full.max_tokens - 1  # at least the longest example is cut; it keeps part of its completion
    with pytest.raises(TracekdError, match=rf"--max-length {shortest_prompt}: [1-4] of 4 examples are longer and "
                                           r"would lose the end of their completion, answer included"):
        dry_run(model_dir, "--max-length", str(shortest_prompt))
    assert "lose the end of their completion" in capsys.readouterr().out  # said before refusing
    allowed = dry_run(model_dir, "--max-length", str(shortest_prompt), "--allow-truncation").tokens
    assert allowed.over_max_length >= 1 and allowed.without_completion == 0


def test_no_completion_left_is_refused_even_when_truncation_is_allowed(model_dir):
    with pytest.raises(TracekdError, match="every prompt fills it, so no example keeps any of its completion"):
        dry_run(model_dir, "--max-length", "8", "--allow-truncation")


def test_packing_that_splits_long_examples_loses_nothing(model_dir):
    full = dry_run(model_dir, "--max-length", "100000").tokens
    tokens = dry_run(model_dir, "--max-length", str(full.max_tokens - 1), "--packing", "--packing-strategy",
                     "bfd_split").tokens
    assert tokens.over_max_length >= 1


def test_cli_max_length_too_short_exits_2_before_training(model_dir, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--model_name_or_path", str(model_dir), "--data-dir", str(data_dir()), "--limit", "4",
                 "--output-dir", str(out), "--max-length", "256", "--max-steps", "1"])
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # after the progress bar
    assert code == 2 and last.startswith("tracekd train: error: --max-length 256: every prompt fills it")
    assert not (out / "run.json").exists() and not (out / "adapter_model.safetensors").exists()
