"""A real lm-eval run of the ``trace_qa`` group (CoTemp, bAbI, MS MARCO) with a tiny HF model, and
``tracekd rescore`` over its samples files reproducing every task's numbers and the group's."""

from __future__ import annotations

import json
import math

import pytest
from data_paths import DATA, TASKS
from oracle_lm import oracle_lm

from tracekd_ext.adapters import get_spec
from tracekd_ext.cli import main
from tracekd_ext.metrics import PAIR_METRICS, STEP_METRICS
from tracekd_ext.task_registry import GROUPS
from tracekd_ext.trace_format import render_prompt, render_target

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("data_dir")]  # data_dir: skipped without it, failed in CI
TRACE_TASKS = GROUPS["trace_qa"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tiny_model import tiny_model_on_datasets

    def text_of(problem, spec):
        return render_prompt(problem, spec, instruction=True) + render_target(problem, spec, "correct")

    return tiny_model_on_datasets(tmp_path_factory.mktemp("tiny"), text_of)


def _same(a, b) -> bool:
    missing_a = a is None or (isinstance(a, float) and math.isnan(a))
    missing_b = b is None or (isinstance(b, float) and math.isnan(b))
    return missing_a == missing_b and (missing_a or a == pytest.approx(b, rel=1e-12, abs=1e-15))


def test_trace_qa_group_run_and_rescore(tmp_path, tiny_model, monkeypatch):
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(name, "1")
    # the shared MS MARCO copy is a slice of the public train split, so it holds no test items: evaluate all
    manager = TaskManager(include_path=str(TASKS), include_defaults=False,
                          metadata={"data_dir": str(DATA), "split": "all"})
    tracker = EvaluationTracker(output_path=str(tmp_path / "run"))
    out = simple_evaluate(model="hf", model_args=f"pretrained={tiny_model},max_length=512", tasks=["trace_qa"],
                          task_manager=manager, limit=2, device="cpu", batch_size=2, log_samples=True,
                          bootstrap_iters=0, gen_kwargs="max_gen_toks=12", evaluation_tracker=tracker)
    tracker.save_results_aggregated(results=out, samples=out["samples"])
    for task in TRACE_TASKS:
        tracker.save_results_samples(task_name=task, samples=out["samples"][task])
    results = out["results"]
    files = sorted(str(p) for p in (tmp_path / "run").rglob("samples_*.jsonl"))
    assert len(files) == 3

    summary_path = tmp_path / "rescore.json"
    assert main(["rescore", *files, "--output", str(summary_path)]) == 0
    summary = json.loads(summary_path.read_text())
    assert set(summary["per_task"]) == set(TRACE_TASKS)
    for task in TRACE_TASKS:
        part = summary["per_task"][task]
        assert part["n"] == 2
        for name in STEP_METRICS:
            # lm-eval leaves out a metric no item covers (grounded where no gold answer is in the gold units);
            # rescore's mean is then undefined too
            assert _same(results[task].get(f"{name},none"), part["metrics"][name]["mean"]), (task, name)
        for name, (pair, stat) in PAIR_METRICS.items():
            assert _same(results[task][f"{name},none"], part["pairs"][pair][stat]), (task, name)
    for name in ("answer_acc", "trace_acc"):  # the group's size-weighted means are the pooled means
        assert _same(results["trace_qa"][f"{name},none"], summary["pooled"]["metrics"][name]["mean"]), name
    rows = [json.loads(line) for line in open(files[0])]
    assert rows[0]["doc"]["prompt"] in rows[0]["arguments"]["gen_args_0"]["arg_0"]


def _mixed_answer(doc, doc_id):
    """Gold traces, incorrect traces, wrong answers and bare answers, by doc."""
    from tracekd_ext.record import Problem

    problem = Problem.from_dict(doc)
    spec = get_spec(problem.dataset)
    kind = (doc_id * 7 + len(problem.units)) % 5
    if kind in (0, 1):
        return render_target(problem, spec, "correct")
    if kind == 2:
        return render_target(problem, spec, "incorrect", seed=doc_id)
    if kind == 3:
        return render_target(problem, spec, "correct").replace("<answer>", "<answer>not ")
    return render_target(problem, spec, "answer")


def test_trace_qa_oracle_run_pooled_statistics(tmp_path, monkeypatch):
    """Non-trivial numbers: the group's size-weighted means equal the pooled ones, and the pooled 2x2 table
    is the sum of the tasks' tables (which lm-eval's group aggregation cannot give)."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    manager = TaskManager(include_path=str(TASKS), include_defaults=False,
                          metadata={"data_dir": str(DATA), "split": "all"})
    tracker = EvaluationTracker(output_path=str(tmp_path / "oracle"))
    out = simple_evaluate(model=oracle_lm(_mixed_answer), tasks=["trace_qa"], task_manager=manager, limit=30,
                          log_samples=True, bootstrap_iters=0, evaluation_tracker=tracker)
    tracker.save_results_aggregated(results=out, samples=out["samples"])
    for task in TRACE_TASKS:
        tracker.save_results_samples(task_name=task, samples=out["samples"][task])
    files = sorted(str(p) for p in (tmp_path / "oracle").rglob("samples_*.jsonl"))
    summary_path = tmp_path / "rescore.json"
    assert main(["rescore", *files, "--output", str(summary_path)]) == 0
    summary, results = json.loads(summary_path.read_text()), out["results"]
    for task in TRACE_TASKS:
        for name in STEP_METRICS:
            assert _same(results[task].get(f"{name},none"), summary["per_task"][task]["metrics"][name]["mean"])
        for name, (pair, stat) in PAIR_METRICS.items():
            assert _same(results[task][f"{name},none"], summary["per_task"][task]["pairs"][pair][stat])
    for name in ("answer_acc", "trace_acc"):
        assert _same(results["trace_qa"][f"{name},none"], summary["pooled"]["metrics"][name]["mean"])
    pooled = summary["pooled"]["pairs"]["trace"]
    assert 0 < pooled["tt"] < pooled["n"] and pooled["ft"] > 0 and pooled["tf"] > 0
    for cell in ("tt", "tf", "ft", "ff"):
        assert pooled[cell] == sum(summary["per_task"][t]["pairs"]["trace"][cell] for t in TRACE_TASKS)
