"""The demo's baseline prompts through each place a model can run, in one process run on one machine: wall
seconds of generation, new tokens/s, the ratio to raw ``model.generate``, and start-up seconds separately.

Prompts: ``cotemp_synth_trace``, 1-shot, chat template, the default model (SmolLM2-135M-Instruct), float32,
greedy, up to 178 new tokens, stopping at ``</answer>`` (the demo's baseline stage), the first ``--prompts``.
Each engine generates the same prompts in one batch (vLLM and the server: all at once); new tokens are counted
the same way for all (the text up to the stop string, re-tokenised):

- raw ``model.generate`` in padded batches (the baseline of every ratio);
- ``tracekd-hf`` and lm-eval's ``hf`` (``generate_until``; start-up: building the model object);
- vLLM in process, eager (start-up: the engine; ``VLLM_CPU_OMP_THREADS_BIND`` as given, vLLM's default otherwise);
- ``vllm serve`` on 127.0.0.1 through lm-eval's ``local-completions`` (start-up: until /health answers);
- ``tracekd eval --model tracekd-hf`` as one process and as two (``accelerate launch``, cpu.yaml): whole
  commands, start-up included (each process loads the model), on the same prompts.

Needs vLLM (the .ci/vllm venv): ``VENV/bin/python bench/bench_engines.py [--prompts 16] [--skip-server]``.
The load average is printed before and after: other work on a shared CPU slows every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from bench_demo import STOP, count_new_tokens, load  # noqa: E402

TASK, SHOTS, NEW_TOKENS = "cotemp_synth_trace", 1, 178


def eval_argv(model_dir: str, prompts: int, out: Path) -> list[str]:
    return ["eval", "--model", "tracekd-hf", "--model_args", f"pretrained={model_dir},dtype=float32",
            "--tasks", TASK, "--num_fewshot", str(SHOTS), "--apply_chat_template", "--limit", str(prompts),
            "--batch_size", str(prompts), "--gen_kwargs", f"max_gen_toks={NEW_TOKENS}", "--log_samples",
            "--output_path", str(out)]


def timed_command(argv: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def requests_of(prompts: list[str]) -> list:
    from lm_eval.api.instance import Instance

    kwargs = {"until": [STOP], "max_gen_toks": NEW_TOKENS, "do_sample": False, "temperature": 0.0}
    return [Instance("generate_until", {}, (prompt, kwargs), i) for i, prompt in enumerate(prompts)]


def raw_generate(model, tokenizer, prompts: list[str]) -> tuple[list[str], float]:
    import torch

    tokenizer.padding_side = "left"
    encoded = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    started = time.perf_counter()
    with torch.inference_mode():
        output = model.generate(**encoded, max_new_tokens=NEW_TOKENS, do_sample=False, stop_strings=[STOP],
                                tokenizer=tokenizer, pad_token_id=tokenizer.pad_token_id)
    texts = tokenizer.batch_decode(output[:, encoded["input_ids"].shape[1]:], skip_special_tokens=True)
    return texts, time.perf_counter() - started


def start_server(model_dir: str, port: int) -> tuple[subprocess.Popen, float]:
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "tracekd_ext.vllm_cpu", "serve", model_dir, "--host",
                                "127.0.0.1", "--port", str(port), "--dtype", "float32", "--enforce-eager",
                                "--max-model-len", "4096", "--served-model-name", "smollm2"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, VLLM_CPU_KVCACHE_SPACE=os.environ.get("VLLM_CPU_KVCACHE_SPACE",
                                                                                          "2")))
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                return process, time.perf_counter() - started
        except OSError:
            if process.poll() is not None or time.perf_counter() - started > 900:
                process.kill()
                sys.exit("vllm serve did not start")
            time.sleep(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument("--port", type=int, default=18431)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_engines"))
    args = parser.parse_args()
    os.environ.setdefault("TRACEKD_DATA_DIR", str(REPO.parent / "shared" / "data"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from tracekd_ext.default_model import ensure_default_model

    model_dir = str(ensure_default_model())
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; load average before: {load()}")

    one = timed_command([sys.executable, "-m", "tracekd_ext", *eval_argv(model_dir, args.prompts, args.out / "one")])
    two = timed_command([sys.executable, "-m", "accelerate.commands.launch", "--config_file",
                         str(REPO / "task_configs" / "accelerate" / "cpu.yaml"), "--num_processes", "2",
                         "-m", "tracekd_ext", *eval_argv(model_dir, args.prompts, args.out / "two")])
    rows = [json.loads(line) for line in next((args.out / "one").rglob("samples_*.jsonl")).read_text().splitlines()]
    prompts = [row["arguments"]["gen_args_0"]["arg_0"] for row in rows]

    from lm_eval.models.huggingface import HFLM

    from tracekd_ext.generation.backend import PrefixReuseHFLM

    options = {"pretrained": model_dir, "dtype": "float32", "batch_size": len(prompts), "device": "cpu"}
    figures: dict[str, tuple[list[str], float, float]] = {}
    for name, cls in (("tracekd-hf", PrefixReuseHFLM), ("hf", HFLM)):
        started = time.perf_counter()
        lm = cls(**options)
        startup = time.perf_counter() - started
        started = time.perf_counter()
        texts = lm.generate_until(requests_of(prompts), disable_tqdm=True)
        figures[name] = texts, time.perf_counter() - started, startup
    tokenizer, model = lm.tokenizer, lm.model
    raw_texts, raw_seconds = raw_generate(model, tokenizer, prompts)
    figures["raw model.generate"] = raw_texts, raw_seconds, 0.0
    del lm, model

    from tracekd_ext.vllm_cpu import answer_vllm_version, kv_cache_gib

    answer_vllm_version()
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(kv_cache_gib()))
    from lm_eval.models.vllm_causallms import VLLM

    started = time.perf_counter()
    engine = VLLM(pretrained=model_dir, dtype="float32", enforce_eager=True, batch_size="auto", max_model_len=4096)
    startup = time.perf_counter() - started
    started = time.perf_counter()
    texts = engine.generate_until(requests_of(prompts), disable_tqdm=True)
    figures["vLLM in process (eager)"] = texts, time.perf_counter() - started, startup
    del engine

    if not args.skip_server:
        from lm_eval.models.openai_completions import LocalCompletionsAPI

        process, startup = start_server(model_dir, args.port)
        try:
            client = LocalCompletionsAPI(base_url=f"http://127.0.0.1:{args.port}/v1/completions", model="smollm2",
                                         tokenizer_backend="huggingface", tokenizer=model_dir, tokenized_requests=False,
                                         num_concurrent=len(prompts), max_retries=1)
            started = time.perf_counter()
            texts = client.generate_until(requests_of(prompts), disable_tqdm=True)
            figures["vllm serve + local-completions"] = texts, time.perf_counter() - started, startup
        finally:
            process.terminate()
            process.wait(timeout=60)

    raw_rate = count_new_tokens(tokenizer, raw_texts) / raw_seconds
    print(f"{len(prompts)} prompts of {TASK} ({SHOTS}-shot, chat template), up to {NEW_TOKENS} new tokens, float32")
    print("| engine | start-up s | generation s | new tokens | tokens/s | ratio to raw | same texts as tracekd-hf |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    reference = figures["tracekd-hf"][0]
    for name, (texts, seconds, startup) in figures.items():
        tokens = count_new_tokens(tokenizer, texts)
        same = sum(a.split(STOP)[0] == b.split(STOP)[0] for a, b in zip(texts, reference, strict=True))
        print(f"| {name} | {startup:.1f} | {seconds:.1f} | {tokens} | {tokens / seconds:.1f} | "
              f"{tokens / seconds / raw_rate:.2f} | {same}/{len(texts)} |")
    print(f"| tracekd eval, one process (whole command) | | {one:.1f} | | | | |")
    print(f"| tracekd eval, two processes (accelerate launch, whole command) | | {two:.1f} | | | | |")
    print(f"load average after: {load()}")


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
