"""A real lm-eval run of cotemp_synth_intervene with a tiny local HF model, and ``tracekd rescore``
reproducing the run's numbers exactly from its samples files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tracekd_ext.interventions.conditions import CONDITIONS

pytestmark = pytest.mark.slow


def test_tiny_model_run_and_rescore_reproduce(tmp_path, tiny_model_dir):
    out = tmp_path / "run"
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-m", "tracekd_ext.cli", "eval", "--model", "hf", "--model_args",
         f"pretrained={tiny_model_dir}", "--tasks", "cotemp_synth_intervene", "--limit", "4", "--device", "cpu",
         "--batch_size", "4", "--apply_chat_template", "--gen_kwargs", "max_gen_toks=12", "--output_path",
         str(out), "--log_samples"], capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(next(out.rglob("results_*.json")).read_text())["results"]
    samples = sorted(out.rglob("samples_cotemp_synth_intervene_*.jsonl"))
    assert len(samples) == len(CONDITIONS)
    for path in samples:
        row = json.loads(path.read_text().splitlines()[0])
        prompt = row["arguments"]["gen_args_0"]["arg_0"]
        assert prompt.endswith(row["doc"]["gen_prefix"]) and not prompt.endswith("<|end|>")
    summary = tmp_path / "interventions.json"
    rescored = subprocess.run([sys.executable, "-m", "tracekd_ext.cli", "rescore", *map(str, samples),
                               "--output", str(summary), "--per-sample", str(tmp_path / "items.jsonl")],
                              capture_output=True, text=True, env=env, timeout=300)
    assert rescored.returncode == 0, rescored.stderr[-3000:]
    assert "Reading:" in rescored.stdout
    (run,) = json.loads(summary.read_text())["runs"]
    assert run["n"] == 4
    for condition in CONDITIONS:
        lm = results[f"cotemp_synth_intervene_{condition}"]
        mine = run["conditions"][condition]
        assert mine["answer_acc"] == lm["answer_acc,none"]
        assert mine["answer_f1"] == lm["answer_f1,none"]
        if "follows_trace,none" in lm:
            assert mine["follow_rate"] == lm["follows_trace,none"]
        else:
            assert mine["follow_n"] == 0
    rows = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    assert len(rows) == 4 * len(CONDITIONS) and {"forced_prefix", "answer", "condition"} <= set(rows[0])
