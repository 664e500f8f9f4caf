"""Every numeric option is range-checked by one shared set of validators (issue 9, section 5)."""

from __future__ import annotations

import argparse

import pytest

from tracekd_ext.cli import main
from tracekd_ext.errors import TracekdError
from tracekd_ext.options import check, fraction, nonnegative_int, positive_int, probability, steps_limit
from tracekd_train.config import parse_config


@pytest.mark.parametrize("bad", ["-1", "nan", "inf", "1.5", "x", True, None])
def test_probability_refuses_values_outside_zero_one(bad):
    with pytest.raises(argparse.ArgumentTypeError, match=r"probability in \[0, 1\]"):
        probability(bad)


@pytest.mark.parametrize(("checker", "good", "bad"), [
    (probability, ["0", "1", 0.25], ["-0.01", "1.01", "nan"]),
    (fraction, ["0", "0.99"], ["1", "-1e-9", "inf"]),
    (positive_int, ["1", 7, 3.0], ["0", "-2", "1.5", "nan", "1e3"]),
    (nonnegative_int, ["0", "12"], ["-1", "0.5"]),
    (steps_limit, ["-1", "1", "500"], ["0", "-2"]),
])
def test_checkers_accept_the_range_and_refuse_the_rest(checker, good, bad):
    for value in good:
        checker(value)
    for value in bad:
        with pytest.raises(argparse.ArgumentTypeError):
            checker(value)


def test_check_names_the_option():
    with pytest.raises(TracekdError, match="--x: expected an integer of at least 1, got 0"):
        check("--x", 0, positive_int)


@pytest.mark.parametrize("value", ["-1", "nan"])
def test_data_export_refuses_a_perturb_probability_outside_zero_one(tmp_path, capsys, data_dir, value):
    out = tmp_path / "o.jsonl"
    with pytest.raises(SystemExit) as done:
        main(["data", "export", "--dataset", "cotemp", "--data-dir", str(data_dir), "--variant", "incorrect",
              "--perturb-probability", value, "--out", str(out)])
    assert done.value.code == 2
    assert "--perturb-probability: expected a probability in [0, 1]" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("argv", [
    ["demo", "--limit", "0"], ["demo", "--num-fewshot", "-1"], ["demo", "--max-gen-toks", "0"],
    ["demo", "--batch-size", "0"], ["demo", "--distractors", "-1"], ["demo", "--seed", "-3"],
    ["report", "x", "--out", "y", "--jobs", "-1"],
])
def test_numeric_options_of_demo_and_report_are_range_checked(capsys, argv):
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    assert "expected" in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "value"), [
    ("--num-train-epochs", "0"), ("--num-train-epochs", "nan"), ("--max-steps", "0"), ("--learning-rate", "0"),
    ("--learning-rate", "inf"), ("--lora-r", "0"), ("--lora-dropout", "1"),
    ("--weight-decay", "-1"), ("--limit", "0"), ("--seed", "-1"), ("--save-total-limit", "0"),
    ("--perturb-probability", "nan"),
])
def test_train_refuses_out_of_range_numbers_before_loading_anything(flag, value):
    with pytest.raises(TracekdError, match=f"^{flag}: expected"):
        parse_config(["--model_name_or_path", "no/such-model", "--output-dir", "o", flag, value])


def test_train_negative_warmup_is_transformers_one_line_error():
    with pytest.raises(TracekdError, match="^invalid training options: .*warmup_steps >= 0"):
        parse_config(["--model_name_or_path", "no/such-model", "--output-dir", "o", "--warmup-steps", "-0.1"])


def test_train_num_train_epochs_zero_exits_2_without_a_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model_name_or_path", "no/such-model", "--output-dir", str(out), "--num-train-epochs",
                 "0"]) == 2
    assert "--num-train-epochs: expected a finite number above 0" in capsys.readouterr().err
    assert not out.exists()


def test_synth_metadata_numbers_are_range_checked():
    from tracekd_ext.adapters import get_spec

    load = get_spec("synth").load
    with pytest.raises(TracekdError, match="'size': expected an integer of at least 1"):
        load(None, "test", size=0)
    with pytest.raises(TracekdError, match="'distractors': expected an integer of at least 0"):
        load(None, "test", distractors="-2")
    assert len(load(None, "test", size="3")) == 3
