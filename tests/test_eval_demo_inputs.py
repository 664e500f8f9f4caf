"""Malformed inputs of ``tracekd eval`` and ``tracekd demo`` are one line, before any work (issue 18, item 4):
tracekd-hf's ``prefix_cache_mib``, the interventions' ``perturb_seed``, a model folder that does not exist, the
demo without its extra's packages."""

from __future__ import annotations

import sys

import pytest
from cli_helpers import one_line_error, run_cli

from tracekd_ext.errors import TracekdError

SEED_ERROR = "perturb_seed: expected an integer of at least 0, got 'abc'"


@pytest.mark.parametrize("value", ["abc", -1, 2.5])
def test_prefix_cache_mib_is_checked_before_the_model_loads(value):
    from tracekd_ext.generation.backend import PrefixReuseHFLM

    # no such model: the check comes first, so the error is about the option, not the folder
    with pytest.raises(TracekdError, match=rf"^--model_args prefix_cache_mib: expected an integer of at least 0, "
                                           rf"got {value!r}$"):
        PrefixReuseHFLM(pretrained="/no/such/model", prefix_cache_mib=value)


def test_perturb_seed_is_checked():
    from tracekd_ext.interventions.task_hooks import load_docs

    with pytest.raises(TracekdError, match=f"^{SEED_ERROR}$"):
        load_docs(dataset="synth", condition="wrong_ret", perturb_seed="abc", size=4)
    with pytest.raises(TracekdError, match="perturb_seed: expected an integer of at least 0, got -3"):
        load_docs(dataset="synth", condition="wrong_ret", perturb_seed=-3, size=4)


def test_a_model_path_that_does_not_exist_is_one_line(capsys, tmp_path):
    missing = tmp_path / "no_such_model"
    for extra in ([], ["--print-model-path"]):
        code, out, err = run_cli(capsys, "demo", "--model", missing, "--out", tmp_path / "demo", *extra)
        assert code == 2 and one_line_error(err) == f"tracekd demo: error: --model {missing}: no such model folder"
        assert out == "" and not (tmp_path / "demo").exists()


def test_demo_without_the_report_extra_is_refused_before_stage_1(capsys, tmp_path, monkeypatch):
    from tracekd_ext.demo import stages

    def stage_ran(*args):
        raise AssertionError("a stage ran")

    monkeypatch.setattr(stages, "baseline_stage", stage_ran)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed: find_spec gives None
    code, _, err = run_cli(capsys, "demo", "--out", tmp_path / "demo")
    assert code == 2 and "needs matplotlib (the demo extra): pip install 'tracekd[demo]'" in one_line_error(err)
    assert not (tmp_path / "demo").exists()
    monkeypatch.setitem(sys.modules, "peft", None)
    code, _, err = run_cli(capsys, "demo", "--out", tmp_path / "demo")
    assert code == 2 and "needs matplotlib, peft (the demo extra)" in one_line_error(err)


@pytest.mark.slow  # lm-eval indexes its own task folders and builds the model
def test_through_tracekd_eval(capsys, tiny_model_dir):
    code, _, err = run_cli(capsys, "eval", "--model", "tracekd-hf", "--model_args",
                           f"pretrained={tiny_model_dir},prefix_cache_mib=-1", "--tasks", "cotemp_synth_trace",
                           "--limit", "1")
    # lm-eval reads "-1" in --model_args as the number -1.0
    assert code == 2 and one_line_error(err).endswith("prefix_cache_mib: expected an integer of at least 0, got -1.0")
    code, _, err = run_cli(capsys, "eval", "--model", "dummy", "--tasks", "cotemp_synth_intervene_wrong_ret",
                           "--limit", "1", "--metadata", '{"perturb_seed": "abc"}')
    assert code == 2 and one_line_error(err).endswith(SEED_ERROR)
