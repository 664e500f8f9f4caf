"""Several processes on the CPU (gloo): ``accelerate launch ... -m tracekd_ext eval`` evaluates data-parallel and
equals the one-process run item by item and in every aggregate (pair statistics included);
``accelerate launch ... -m tracekd_train`` trains with DDP, writes the adapter and run.json once, and its first
loss equals a one-process run with the same global batch; the accelerate configs load through accelerate."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from data_paths import REPO
from train_helpers import smoke_args

from tracekd_ext.errors import TracekdError

CPU_CONFIG = REPO / "task_configs" / "accelerate" / "cpu.yaml"
LAUNCH = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(CPU_CONFIG),
          "--num_processes", "2"]
ENV = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="1")
# The first step's loss of two processes (batch 2 each) was equal to the last digit to one process's (batch 4)
# here; the tolerance leaves room for another summation order of the gathered losses.
FIRST_LOSS_RTOL = 1e-4


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900, cwd=REPO)
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


@pytest.mark.parametrize("path", sorted((REPO / "task_configs" / "accelerate").glob("*.yaml")), ids=lambda p: p.name)
def test_accelerate_configs_load_through_accelerate(path):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(path))
    assert config.num_processes >= 2 and config.compute_environment.value == "LOCAL_MACHINE"


def test_hf_on_several_cpu_processes_is_refused_in_one_line(monkeypatch):
    import torch

    from tracekd_ext.data_parallel import check_data_parallel_model

    if torch.cuda.device_count() >= 2:
        pytest.skip("GPUs: lm-eval's hf is data-parallel there")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(TracekdError, match="--model tracekd-hf"):
        check_data_parallel_model(["--model", "hf", "--tasks", "cotemp_trace"])
    check_data_parallel_model(["--model", "tracekd-hf"])
    monkeypatch.setenv("WORLD_SIZE", "1")
    check_data_parallel_model(["--model=hf"])


@pytest.mark.slow
def test_gathered_ranks_give_the_one_process_metrics_and_pair_statistics(tmp_path):
    """lm-eval's evaluator with the scripted oracle (varied right and wrong traces, so the pair statistics are
    not trivial), its 40 items split over two processes."""
    script = str(REPO / "tests" / "data_parallel_oracle.py")
    _run([sys.executable, script, str(tmp_path / "one.json")], ENV)
    _run([*LAUNCH, script, str(tmp_path / "two.json")], ENV)
    one, two = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("one", "two"))
    assert (one["world_size"], two["world_size"]) == (1, 2)
    assert two["samples"] == one["samples"] and len(two["samples"]) == 40
    assert 0 < two["results"]["trace_answer_phi,none"] < 1  # a real table, gathered from both ranks
    assert all(_same(two["results"][k], v) for k, v in one["results"].items()), (one["results"], two["results"])


@pytest.mark.slow
def test_tracekd_hf_on_two_processes_equals_one(tmp_path, tiny_model_dir, data_dir):
    args = ["eval", "--model", "tracekd-hf", "--model_args", f"pretrained={tiny_model_dir},dtype=float32",
            "--tasks", "cotemp_trace,cotemp_synth_intervene_gold", "--limit", "5", "--batch_size", "2",
            "--apply_chat_template", "--gen_kwargs", "max_gen_toks=16", "--log_samples"]
    env = dict(ENV, TRACEKD_DATA_DIR=str(data_dir))
    _run([sys.executable, "-m", "tracekd_ext", *args, "--output_path", str(tmp_path / "one")], env)
    two = _run([*LAUNCH, "-m", "tracekd_ext", *args, "--output_path", str(tmp_path / "two")], env)
    assert "| 3/3 " in two.stderr and "| 2/2 " in two.stderr  # each process built its own share of the requests
    results = {}
    for run in ("one", "two"):
        (path,) = (tmp_path / run).rglob("results_*.json")  # written once
        results[run] = json.loads(path.read_text())["results"]
    assert results["two"].keys() == results["one"].keys()
    for task, metrics in results["one"].items():
        assert all(_same(results["two"][task][k], v) for k, v in metrics.items()), task
    for task in ("cotemp_trace", "cotemp_synth_intervene_gold"):
        rows = {}
        for run in ("one", "two"):
            (path,) = (tmp_path / run).rglob(f"samples_{task}_*.jsonl")
            rows[run] = sorted((json.loads(line) for line in path.read_text().splitlines()), key=lambda r: r["doc_id"])
        assert [r["doc_id"] for r in rows["two"]] == list(range(5))
        # lm-eval pads a rank that has fewer requests with copies of its last one, whose answers it appends to
        # that item's resps; the first answer is the item's own (and the one filtered and scored)
        keys = ("filtered_resps", "answer_acc", "answer_f1", "parse_ok", "trace_acc", "follows_trace")
        assert [[r["resps"][0][0], *[r.get(k) for k in keys]] for r in rows["two"]] == \
            [[r["resps"][0][0], *[r.get(k) for k in keys]] for r in rows["one"]]


@pytest.mark.slow
def test_training_on_two_processes_writes_once_and_starts_from_the_same_loss(tmp_path, tiny_model_dir):
    def train(out: Path, launcher: list[str], per_device: int) -> dict:
        argv = smoke_args(tiny_model_dir, out, "--max-steps", "1", "--per-device-train-batch-size", str(per_device))
        done = _run([*launcher, "-m", "tracekd_train", *argv], ENV)
        assert done.stdout.count("tracekd train: done") == 1
        return json.loads((out / "run.json").read_text())

    one = train(tmp_path / "one", [sys.executable], 4)
    two = train(tmp_path / "two", LAUNCH, 2)
    assert (one["device"]["world_size"], two["device"]["world_size"]) == (1, 2)
    assert one["training"]["global_batch_size"] == two["training"]["global_batch_size"] == 4
    assert (tmp_path / "two" / "adapter_model.safetensors").is_file()
    assert two["training"]["first_loss"] == pytest.approx(one["training"]["first_loss"], rel=FIRST_LOSS_RTOL)
