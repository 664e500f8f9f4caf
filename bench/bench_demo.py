"""Wall time and peak memory (RSS) of ``tracekd demo`` with the default model, per stage, and the speed of its
generation against raw ``model.generate`` on the same prompts and batches.

  1. the one-time conversion of the GGUF into a fresh cache (``tracekd demo --print-model-path``, a fresh
     process);
  2. ``tracekd demo`` with its defaults (or the options after ``--``) in a fresh process, with the converted model
     cached: total wall time and peak RSS of the process, and per stage the wall seconds and the peak RSS the
     process had reached when the stage ended (the demo's ``timings.json``);
  3. generation speed: the baseline stage's prompts (from its samples file) generated again in this process,
     through ``tracekd-hf`` (what the demo runs: per-prompt prefill with prefix reuse, an in-place cache), through
     lm-eval's own ``hf`` backend, and with raw ``model.generate`` on the same model, the same batches (longest
     prompts first, as lm-eval orders them), greedy, stopping at ``</answer>``; new tokens are counted the same
     way for all (the text up to the stop string, re-tokenised); each ratio to raw is printed (target >= 0.9).
The machine's load average is printed before and after: other processes on a shared CPU slow every run.

    python bench/bench_demo.py [--skip-conversion] [--skip-generate] [--prompts N] [-- DEMO OPTIONS]
    python bench/bench_demo.py --generate-only runs/demo/baseline/<model folder> [--prompts N]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 300.0
STOP = "</answer>"


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB and stdout of one child process (which must succeed)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout = child.stdout.read()
    child.stdout.close()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {shlex.join(command)}")
    return wall, usage.ru_maxrss / 1024, stdout


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def count_new_tokens(tokenizer, texts: list[str]) -> int:
    """Tokens of each text up to the stop string (lm-eval strips it), summed."""
    return sum(len(tokenizer(text.split(STOP)[0], add_special_tokens=False)["input_ids"]) for text in texts)


def generation_speed(run_dir: Path, prompts_limit: int | None = None) -> None:
    """lm-eval's generation vs raw ``generate`` on the baseline stage's prompts (see the module docstring);
    ``prompts_limit``: only the first N prompts."""
    import torch
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    from tracekd_ext.generation.backend import PrefixReuseHFLM

    results = json.loads(next(run_dir.glob("results_*.json")).read_text())
    config = results["config"]
    rows = [json.loads(line) for line in next(run_dir.glob("samples_*.jsonl")).read_text().splitlines()]
    prompts = [row["arguments"]["gen_args_0"]["arg_0"] for row in rows][:prompts_limit]
    max_gen_toks = int(config["gen_kwargs"]["max_gen_toks"])
    batch = int(config["batch_size"])
    args = config["model_args"]
    options = {"pretrained": args["pretrained"], "dtype": args.get("dtype", "float32"), "batch_size": batch,
               "device": "cpu"}
    lm, plain = PrefixReuseHFLM(**options), HFLM(**options)
    tokenizer, model = plain.tokenizer, plain.model
    gen_kwargs = {"until": [STOP], "max_gen_toks": max_gen_toks, "do_sample": False}
    requests = [Instance("generate_until", {}, (p, gen_kwargs), i) for i, p in enumerate(prompts)]
    prompt_tokens = sum(len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts)
    print(f"generation: {len(prompts)} prompts ({prompt_tokens / len(prompts):.0f} tokens on average), batch {batch}, "
          f"up to {max_gen_toks} new tokens, {args.get('dtype')}, {torch.get_num_threads()} threads")

    timings = {}
    for name, backend in (("tracekd-hf generate_until (the demo's)", lm), ("lm-eval hf generate_until", plain)):
        started = time.perf_counter()
        texts = backend.generate_until(requests, disable_tqdm=True)
        timings[name] = count_new_tokens(tokenizer, texts), time.perf_counter() - started

    tokenizer.padding_side = "left"
    ordered = sorted(prompts, key=lambda p: -len(tokenizer(p, add_special_tokens=False)["input_ids"]))
    raw_texts = []
    started = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(ordered), batch):
            encoded = tokenizer(ordered[i:i + batch], return_tensors="pt", padding=True, add_special_tokens=False)
            output = model.generate(**encoded, max_new_tokens=max_gen_toks, do_sample=False, stop_strings=[STOP],
                                    tokenizer=tokenizer, pad_token_id=tokenizer.pad_token_id)
            raw_texts += tokenizer.batch_decode(output[:, encoded["input_ids"].shape[1]:], skip_special_tokens=True)
    raw_seconds = time.perf_counter() - started
    raw_tokens = count_new_tokens(tokenizer, raw_texts)
    raw_rate = raw_tokens / raw_seconds
    for name, (tokens, seconds) in timings.items():
        print(f"{name:<40} {tokens} new tokens in {seconds:.1f} s = {tokens / seconds:.1f} tokens/s, "
              f"ratio to raw {tokens / seconds / raw_rate:.2f} (target >= 0.9)")
    print(f"{'raw model.generate (padded batches)':<40} {raw_tokens} new tokens in {raw_seconds:.1f} s = "
          f"{raw_rate:.1f} tokens/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-conversion", action="store_true", help="do not time the one-time conversion")
    parser.add_argument("--skip-generate", action="store_true", help="do not compare with raw generate")
    parser.add_argument("--generate-only", metavar="RUN_DIR", help="only compare generation speeds, on the prompts of "
                        "this lm-eval run folder (e.g. a demo's baseline/<model> folder)")
    parser.add_argument("--prompts", type=int, help="compare generation on the first N prompts only")
    parser.add_argument("demo_args", nargs="*", help="options for tracekd demo (after --)")
    args = parser.parse_args()
    if args.generate_only:
        print(f"cpus: {os.cpu_count()}, load average before: {load()}")
        generation_speed(Path(args.generate_only), args.prompts)
        print(f"load average after: {load()}")
        return
    tracekd = [sys.executable, "-m", "tracekd_ext.cli"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    print(f"cpus: {os.cpu_count()}, load average before: {load()}")
    with tempfile.TemporaryDirectory() as scratch:
        if not args.skip_conversion:  # into a fresh cache, which the demo below then uses
            env["TRACEKD_CACHE_DIR"] = str(Path(scratch) / "cache")
        wall, rss, _ = measure([*tracekd, "demo", "--print-model-path"], env)
        if not args.skip_conversion:
            print(f"one-time conversion (GGUF -> safetensors): {wall:6.1f} s, peak RSS {rss:6.0f} MiB")
        out = Path(scratch) / "demo"
        demo_wall, demo_rss, _ = measure([*tracekd, "demo", "--out", str(out), *args.demo_args], env)
        print(f"tracekd demo {shlex.join(args.demo_args)} (converted model cached): {demo_wall:6.1f} s, "
              f"peak RSS {demo_rss:6.0f} MiB ({demo_wall / BUDGET_S:.2f} of the 5-minute budget)")
        records = json.loads((out / "timings.json").read_text())
        for record in records:
            print(f"  {record['stage']:<14} {record['seconds']:6.1f} s, peak RSS so far "
                  f"{record['peak_rss_mib_so_far']:6.0f} MiB")
        print(f"  {'start-up':<14} {demo_wall - sum(r['seconds'] for r in records):6.1f} s (imports, sizing)")
        for label in ("baseline", "tuned"):
            summary = out / label / "rescore.json"
            if summary.is_file():
                metrics = json.loads(summary.read_text())["metrics"]
                print(f"  {label}: " + ", ".join(f"{m} {metrics[m]['mean']:.3f}" for m in
                                                 ("parse_ok", "cls_acc", "ret_acc", "trace_acc", "answer_acc")))
        print(f"load average after the demo: {load()}")
        if not args.skip_generate:
            generation_speed(next(p for p in (out / "baseline").iterdir() if p.is_dir()), args.prompts)
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
