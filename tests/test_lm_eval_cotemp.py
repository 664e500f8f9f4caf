"""Real lm-eval runs of cotemp_trace / cotemp_direct, and rescore reproducing their numbers.

Two runs: a tiny real HF model through ``tracekd eval`` (the console path users take), and an oracle LM
through ``lm_eval.simple_evaluate`` whose generations mix gold traces, wrong traces and wrong answers, so
the reproduced statistics are not trivially zero.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from oracle_lm import oracle_lm

from tracekd_ext.metrics import DIRECT_METRICS, PAIR_METRICS, STEP_METRICS
from tracekd_ext.rescore import load_scored, summarize_file
from tracekd_ext.task_registry import tasks_dir

pytestmark = pytest.mark.slow


def same(a, b):
    return (a is None or (isinstance(a, float) and math.isnan(a))) == (b is None or (isinstance(b, float)
                                                                                    and math.isnan(b))) and (
        a is None or (isinstance(a, float) and math.isnan(a)) or a == pytest.approx(b, rel=1e-12, abs=1e-15))


def assert_rescore_reproduces(results: dict, samples_file: Path, task: str) -> dict:
    summary = summarize_file(load_scored(samples_file), replicates=100)
    kind = "direct" if task.endswith("_direct") else "trace"
    names = DIRECT_METRICS if kind == "direct" else STEP_METRICS
    for name in names:
        assert same(results[task][f"{name},none"], summary["metrics"][name]["mean"]), name
    if kind == "trace":
        for name, (pair, stat) in PAIR_METRICS.items():
            assert same(results[task][f"{name},none"], summary["pairs"][pair][stat]), name
    return summary


@pytest.mark.parametrize("model", ["hf", "tracekd-hf"])
def test_tracekd_eval_with_a_tiny_hf_model(tmp_path, tiny_model_dir, data_dir, model):
    out = tmp_path / "run"
    env = dict(os.environ, TRACEKD_DATA_DIR=str(data_dir))
    done = subprocess.run(
        [sys.executable, "-m", "tracekd_ext.cli", "eval", "--model", model, "--model_args",
         f"pretrained={tiny_model_dir}", "--tasks", "cotemp_trace,cotemp_direct", "--limit", "3", "--device", "cpu",
         "--batch_size", "3", "--num_fewshot", "1", "--apply_chat_template", "--system_instruction",
         "You are a careful assistant.", "--gen_kwargs", "max_gen_toks=24", "--output_path", str(out),
         "--log_samples"], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(next(out.rglob("results_*.json")).read_text())["results"]
    for task in ("cotemp_trace", "cotemp_direct"):
        samples = next(out.rglob(f"samples_{task}_*.jsonl"))
        rows = [json.loads(line) for line in samples.read_text().splitlines()]
        assert len(rows) == 3
        assert "<|system|>You are a careful assistant." in rows[0]["arguments"]["gen_args_0"]["arg_0"]
        assert_rescore_reproduces(results, samples, task)
    expected = {f"{m},none" for m in STEP_METRICS} | {f"{m},none" for m in PAIR_METRICS}
    assert expected <= set(results["cotemp_trace"])


def test_unknown_task_is_a_one_line_error(tmp_path, tiny_model_dir):
    done = subprocess.run([sys.executable, "-m", "tracekd_ext.cli", "eval", "--model", "hf", "--model_args",
                           f"pretrained={tiny_model_dir}", "--tasks", "cotemp_nope", "--limit", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Tasks not found: cotemp_nope" in done.stderr
    assert "Traceback" not in done.stderr


def mixed_answer(doc, doc_id):
    """Gold traces, wrong traces, wrong answers and junk, by doc id."""
    from tracekd_ext.adapters import get_spec
    from tracekd_ext.record import Problem
    from tracekd_ext.trace_format import render_target

    problem, spec = Problem.from_dict(doc), get_spec(doc["dataset"])
    kind = doc_id % 5
    if kind in (0, 1):
        return doc["target"]
    if kind == 2:
        return render_target(problem, spec, "incorrect", seed=doc_id)
    if kind == 3:
        return doc["target"].replace(spec.render_answer(problem), "['Nobody']")
    return "I am not sure."


def test_simple_evaluate_with_oracle_lm_and_rescore(tmp_path, data_dir):
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=tasks_dir(), include_defaults=False, metadata={"data_dir": str(data_dir)})
    tracker = EvaluationTracker(output_path=str(tmp_path / "oracle"))
    out = simple_evaluate(model=oracle_lm(mixed_answer), tasks=["cotemp_trace", "cotemp_direct"], task_manager=manager,
                          limit=40, log_samples=True, bootstrap_iters=0, evaluation_tracker=tracker)
    tracker.save_results_aggregated(results=out, samples=out["samples"])
    for task in ("cotemp_trace", "cotemp_direct"):
        tracker.save_results_samples(task_name=task, samples=out["samples"][task])
    results = out["results"]
    assert results["cotemp_trace"]["answer_acc,none"] == pytest.approx(24 / 40)
    assert results["cotemp_trace"]["trace_acc,none"] == pytest.approx(24 / 40)
    for task in ("cotemp_trace", "cotemp_direct"):
        samples = next((tmp_path / "oracle").rglob(f"samples_{task}_*.jsonl"))
        summary = assert_rescore_reproduces(results, samples, task)
    assert summary["metrics"]["answer_acc"]["n"] == 40


def test_paper_scoring_via_metadata(data_dir):
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=tasks_dir(), include_defaults=False,
                          metadata={"data_dir": str(data_dir), "scoring": "paper", "split": "train"})
    out = simple_evaluate(model=oracle_lm(mixed_answer), tasks=["cotemp_trace"], task_manager=manager, limit=10,
                          bootstrap_iters=0, log_samples=True)
    assert out["samples"]["cotemp_trace"][0]["doc"]["scoring"] == "paper"
    # The paper's IR rule accepts the incorrect traces' irrelevant facts (strict: 6 of 10 right), and
    # the two answers without a think part are left out of the step metrics.
    assert out["results"]["cotemp_trace"]["ret_acc,none"] == 1.0
    assert sum("ret_acc" in s for s in out["samples"]["cotemp_trace"]) == 8  # undefined: left out
