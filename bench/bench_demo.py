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
  4. ``--levers``: what each generation lever of the demo is worth alone, in one process on the baseline stage's
     real prompts (the demo's task, chat template and budget; the first N problems in one batch), each setting
     timed in turn, the order reversed on every repeat: the same shot for every problem (lm-eval's ``first_n``
     sampler) vs shots drawn per problem; stopped rows dropped from the batch (``greedy_decode``) vs ``generate``
     decoding the whole batch to its end (the same texts are checked); int8 dynamic quantisation of the linear
     layers vs float32 (texts compared).
  5. ``--store-replay ADAPTER MIB...``: the prompt tokens ``tracekd-hf`` prefills in the tuned and interventions
     stages (stage 4 on stage 3's model and store) for each prefix-store budget: lm-eval's own requests, order,
     batches and tokenisation, with the model's arithmetic replaced by zeros of the same shapes and generation
     by an immediate stop, so the counts are exact and take no model time (they do not depend on the load).
  6. ``--stage-ab ADAPTER KEY=VALUE``: the demo's evaluation stages (baseline, tuned, interventions on the tuned
     stage's model; ``--stages`` picks) in one process with the demo's ``tracekd-hf`` model args and with one of
     them changed (e.g. ``shared_prefix_attention=False``), alternating on repeats: wall time per stage, the work
     counters, and how many texts are equal.
The machine's load average is printed before and after: other processes on a shared CPU slow every run.

    python bench/bench_demo.py [--skip-conversion] [--skip-generate] [--prompts N] [-- DEMO OPTIONS]
    python bench/bench_demo.py --generate-only runs/demo/baseline/<model folder> [--prompts N]
    python bench/bench_demo.py --levers [--prompts N] [--repeats R]
    python bench/bench_demo.py --store-replay runs/demo/adapter 1024 2048
    python bench/bench_demo.py --stage-ab runs/demo/adapter shared_prefix_attention=False [--stages baseline]
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


def measure(command: list[str], env: dict[str, str], stderr: Path | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB and stdout of one child process (which must succeed); its standard error
    goes to ``stderr`` (default: nowhere)."""
    started = time.perf_counter()
    log = stderr.open("w") if stderr else subprocess.DEVNULL
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    stdout = child.stdout.read()
    child.stdout.close()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if stderr:
        log.close()
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


def lever_requests(lm, model: str, limit: int, sampler: str, folder: Path) -> list:
    """The baseline stage's generation requests (``Instance``s) for the first ``limit`` problems with few-shot
    sampler ``sampler``, built by lm-eval exactly as the demo builds them (nothing is generated)."""
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    from tracekd_ext.demo.plan import DEFAULT_DISTRACTORS, SYNTH_TASK, fewshot_task_file, fitted_budgets
    from tracekd_ext.task_registry import tasks_dir

    metadata = {"distractors": DEFAULT_DISTRACTORS}
    captured = []

    def capture(requests, disable_tqdm=False):
        captured.extend(requests)
        return [""] * len(requests)

    task = SYNTH_TASK if sampler == "default" else str(fewshot_task_file(SYNTH_TASK, sampler, folder))
    generate_until, lm.generate_until = lm.generate_until, capture
    try:
        simple_evaluate(model=lm, tasks=[task], num_fewshot=1, limit=limit, apply_chat_template=True,
                        fewshot_as_multiturn=True, bootstrap_iters=0,
                        gen_kwargs={"max_gen_toks": fitted_budgets(model, limit, metadata).trace},
                        task_manager=TaskManager(include_path=tasks_dir(), include_defaults=False, metadata=metadata))
    finally:
        lm.generate_until = generate_until
    return captured


def levers(prompts: int, repeats: int) -> None:
    """Step 4 of the module docstring."""
    import torch

    from tracekd_ext.demo.default_model import ensure_default_model, fast_dtype
    from tracekd_ext.generation import backend
    from tracekd_ext.generation.prefix_store import PrefixStore

    model, dtype = str(ensure_default_model()), fast_dtype("cpu")
    options = {"pretrained": model, "dtype": dtype, "batch_size": prompts, "device": "cpu"}
    lm, quantised = backend.PrefixReuseHFLM(**options), backend.PrefixReuseHFLM(**options)
    quantised._model = torch.ao.quantization.quantize_dynamic(quantised.model, {torch.nn.Linear}, dtype=torch.qint8)
    with tempfile.TemporaryDirectory() as folder:
        requests = {sampler: lever_requests(lm, model, prompts, sampler, Path(folder))
                    for sampler in ("first_n", "default")}
    tokens = {s: sum(len(lm.tok_encode(r.args[0])) for r in rs) / len(rs) for s, rs in requests.items()}
    print(f"levers: the baseline's first {prompts} prompts in one batch, {dtype}, {torch.get_num_threads()} threads; "
          f"prompt tokens on average: same shot {tokens['first_n']:.0f}, shots per problem {tokens['default']:.0f}")
    settings = {  # name -> (model, sampler, drop stopped rows)
        "same shot, rows dropped (the demo)": (lm, "first_n", True),
        "shots per problem, rows dropped": (lm, "default", True),
        "same shot, generate decodes the whole batch": (lm, "first_n", False),
        "same shot, rows dropped, int8 linear layers": (quantised, "first_n", True),
    }
    seconds = {name: [] for name in settings}
    texts, work = {}, {}
    plain_greedy = backend.plain_greedy
    for repeat in range(repeats):
        for name in (list(settings) if repeat % 2 == 0 else list(reversed(settings))):
            model_lm, sampler, drop = settings[name]
            model_lm.prefix_store = PrefixStore()  # nothing prefilled before
            model_lm.work = dict.fromkeys(model_lm.work, 0)
            backend.plain_greedy = plain_greedy if drop else (lambda *args: False)
            started = time.perf_counter()
            texts[name] = model_lm.generate_until(requests[sampler], disable_tqdm=True)
            seconds[name].append(time.perf_counter() - started)
            backend.plain_greedy = plain_greedy
            work[name] = dict(model_lm.work)
            print(f"  repeat {repeat + 1} {name:<46} {seconds[name][-1]:6.1f} s, load {load()}", flush=True)
    best = {name: min(times) for name, times in seconds.items()}
    demo = "same shot, rows dropped (the demo)"
    for name, time_s in best.items():
        same = sum(a == b for a, b in zip(texts[name], texts[demo], strict=True))
        print(f"{name:<46} best {time_s:6.1f} s, {best[demo] / time_s:4.2f}x the demo's speed; prompt tokens "
              f"prefilled {work[name]['prefilled_tokens']}, row-steps decoded {work[name]['decoded_row_steps']}; "
              f"texts equal to the demo's: {same}/{prompts}"
              + ("" if requests[settings[name][1]] is requests["first_n"] else " (other prompts)"))


def store_replay(adapter: str, budgets_mib: list[int]) -> None:
    """Step 5 of the module docstring."""
    import torch

    from tracekd_ext.demo.default_model import ensure_default_model
    from tracekd_ext.demo.evaluation import EvalRequest, evaluate, load_model
    from tracekd_ext.demo.plan import (
        DEFAULT_DISTRACTORS,
        DEFAULT_LIMIT,
        INTERVENTION_CONDITIONS,
        INTERVENTION_TASK,
        SYNTH_TASK,
        fitted_budgets,
    )
    from tracekd_ext.generation import backend
    from tracekd_ext.generation.prefix_store import PrefixStore

    model, metadata = str(ensure_default_model()), {"distractors": DEFAULT_DISTRACTORS}
    budgets = fitted_budgets(model, DEFAULT_LIMIT, metadata)
    args = {"pretrained": model, "dtype": "float32", "peft": adapter}
    with tempfile.TemporaryDirectory() as scratch:
        def request(tasks: list[str], max_gen_toks: int) -> EvalRequest:
            return EvalRequest(args, tasks, 0, DEFAULT_LIMIT, 48, "cpu", max_gen_toks, metadata, Path(scratch))

        lm = load_model(request([SYNTH_TASK], budgets.trace))
        config, cache_kwarg, _ = lm.model.config, lm._cache_kwarg, lm._growing_cache_ok  # before the swap below

        class Zeros:  # fills the cache with keys and values of the model's shapes, computes nothing
            generation_config = lm.model.generation_config

            def __call__(self, input_ids, **kwargs):
                for layer in range(config.num_hidden_layers):
                    zeros = torch.zeros(1, config.num_key_value_heads, input_ids.shape[1], config.head_dim)
                    kwargs[cache_kwarg].update(zeros, zeros, layer)

        Zeros.config = config
        lm._model = Zeros()
        backend.greedy_decode = lambda model, cache, context, *args: (
            torch.cat([context, torch.full((len(context), 1), lm.tokenizer.pad_token_id)], 1), 0)
        stages = {"tuned": ([SYNTH_TASK], budgets.trace),
                  "interventions": ([INTERVENTION_TASK.format(c) for c in INTERVENTION_CONDITIONS], budgets.answer)}
        print(f"prefix-store replay: the tuned and interventions stages, {DEFAULT_LIMIT} problems, float32")
        for mib in budgets_mib:
            lm.prefix_store = PrefixStore(mib << 20)
            counts = []
            for tasks, max_gen_toks in stages.values():
                lm.work["prefilled_tokens"], lm.prefix_store.reused_tokens = 0, 0
                evaluate(request(tasks, max_gen_toks), model=lm)
                counts.append(f"prefilled {lm.work['prefilled_tokens']:,}, reused {lm.prefix_store.reused_tokens:,}")
            print(f"  {mib:6d} MiB: " + "; ".join(f"{stage} {c}" for stage, c in zip(stages, counts, strict=True))
                  + f" (store: {len(lm.prefix_store.entries)} prompts, {lm.prefix_store.nbytes >> 20} MiB)", flush=True)


def stage_ab(adapter: str, model_arg: str, stages: list[str], repeats: int) -> None:
    """Step 6 of the module docstring."""
    from tracekd_ext.demo.default_model import ensure_default_model, fast_dtype
    from tracekd_ext.demo.evaluation import EvalRequest, evaluate
    from tracekd_ext.demo.plan import (
        DEFAULT_BATCH_SIZE,
        DEFAULT_DISTRACTORS,
        DEFAULT_FEWSHOT,
        DEFAULT_LIMIT,
        INTERVENTION_CONDITIONS,
        INTERVENTION_TASK,
        SYNTH_TASK,
        fewshot_task_file,
        fitted_budgets,
    )

    key, _, value = model_arg.partition("=")
    model, dtype, metadata = str(ensure_default_model()), fast_dtype("cpu"), {"distractors": DEFAULT_DISTRACTORS}
    budgets = fitted_budgets(model, DEFAULT_LIMIT, metadata)
    settings = {"the demo's": {}, model_arg: {key: value}}
    seconds: dict[tuple[str, str], list[float]] = {}
    texts: dict[tuple[str, str], list[str]] = {}
    work: dict[tuple[str, str], dict] = {}
    print(f"stage A/B: {', '.join(stages)}, {DEFAULT_LIMIT} problems, {dtype}, the demo's model args vs "
          f"{model_arg}; adapter {adapter}", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        shot_file = {SYNTH_TASK: fewshot_task_file(SYNTH_TASK, "first_n", Path(scratch) / "tasks")}

        def request(args: dict, tasks: list[str], shots: int, max_gen_toks: int, folder: str) -> EvalRequest:
            return EvalRequest(args, tasks, shots, DEFAULT_LIMIT, DEFAULT_BATCH_SIZE, "cpu", max_gen_toks, metadata,
                               Path(scratch) / folder, shot_file if shots else {})

        def timed(name: str, stage: str, run_request: EvalRequest, model=None):
            started = time.perf_counter()
            run = evaluate(run_request, model=model, keep_model=True)
            seconds.setdefault((name, stage), []).append(time.perf_counter() - started)
            texts[name, stage] = [json.loads(line)["resps"][0][0] for task in sorted(run.samples)
                                  for line in run.samples[task].read_text().splitlines()]
            work[name, stage] = {k: v for k, v in run.model.work.items()}
            run.model.work = dict.fromkeys(run.model.work, 0)
            print(f"  {name:<32} {stage:<14} {seconds[name, stage][-1]:6.1f} s, load {load()}, {work[name, stage]}",
                  flush=True)
            return run.model

        for repeat in range(repeats):
            for name in (list(settings) if repeat % 2 == 0 else list(reversed(settings))):
                args = {"pretrained": model, "dtype": dtype, **settings[name]}
                if "baseline" in stages:
                    timed(name, "baseline", request(args, [SYNTH_TASK], DEFAULT_FEWSHOT, budgets.trace, "baseline"))
                if "tuned" in stages or "interventions" in stages:
                    tuned_args = {**args, "peft": adapter}
                    lm = timed(name, "tuned", request(tuned_args, [SYNTH_TASK], 0, budgets.trace, "tuned"))
                    if "interventions" in stages:  # on the tuned stage's model and prefix store, as the demo runs it
                        tasks = [INTERVENTION_TASK.format(c) for c in INTERVENTION_CONDITIONS]
                        timed(name, "interventions", request(tuned_args, tasks, 0, budgets.answer, "tuned"), lm)
    demo = "the demo's"
    for stage in [s for s in ("baseline", "tuned", "interventions") if (demo, s) in seconds]:
        a, b = min(seconds[demo, stage]), min(seconds[model_arg, stage])
        same = sum(x == y for x, y in zip(texts[demo, stage], texts[model_arg, stage], strict=True))
        print(f"{stage:<14} the demo's {a:6.1f} s, {model_arg} {b:6.1f} s: {b / a:4.2f}x the demo's time; texts "
              f"equal {same}/{len(texts[demo, stage])}")


def story_checks(out: Path) -> None:
    """The demo's story, from its own files: the tuned parse rate >= 0.95 and above the baseline's; under the
    interventions, gold vs wrong_ret with McNemar p < 0.001; and the report's headline, printed for comparison."""
    parse = {label: json.loads((out / label / "rescore.json").read_text())["metrics"]["parse_ok"]["mean"]
             for label in ("baseline", "tuned") if (out / label / "rescore.json").is_file()}
    if len(parse) == 2:
        ok = parse["tuned"] >= 0.95 and parse["tuned"] > parse["baseline"]
        print(f"  story: tuned parse rate {parse['tuned']:.3f} (baseline {parse['baseline']:.3f}): "
              f"{'holds' if ok else 'BROKEN'} (>= 0.95 and above the baseline)")
    report = out / "report" / "report.json"
    runs = json.loads(report.read_text()).get("interventions", {}).get("runs", []) if report.is_file() else []
    for run in runs:
        conditions = run["conditions"]
        if "wrong_ret" in conditions:
            p = conditions["wrong_ret"]["mcnemar_p"]
            print(f"  story: interventions gold {conditions['gold']['answer_acc']:.3f} vs wrong_ret "
                  f"{conditions['wrong_ret']['answer_acc']:.3f}, McNemar p = {p:.2g}: "
                  f"{'holds' if p < 0.001 else 'BROKEN'} (p < 0.001)")
    markdown = out / "report" / "report.md"
    if markdown.is_file():
        text = markdown.read_text()
        start = text.find("## Headline")
        end = text.find("\n## ", start + 1)
        print("  " + text[start:end].strip().replace("\n", "\n  "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-conversion", action="store_true", help="do not time the one-time conversion")
    parser.add_argument("--skip-generate", action="store_true", help="do not compare with raw generate")
    parser.add_argument("--generate-only", metavar="RUN_DIR", help="only compare generation speeds, on the prompts of "
                        "this lm-eval run folder (e.g. a demo's baseline/<model> folder)")
    parser.add_argument("--prompts", type=int, help="compare generation on the first N prompts only (--levers: "
                        "default 16)")
    parser.add_argument("--levers", action="store_true", help="time each generation lever alone (step 4)")
    parser.add_argument("--repeats", type=int, default=2, help="--levers: repeats of every setting (default 2)")
    parser.add_argument("--threads", type=int, help="--levers: torch threads (default torch's; on a CPU shared with "
                        "other work 1 thread measures far steadier: 2 threads wait on each other when preempted)")
    parser.add_argument("--store-replay", nargs="+", metavar=("ADAPTER", "MIB"), help="prompt tokens prefilled in "
                        "stages 3-4 per prefix-store budget (step 5), with a demo's adapter folder")
    parser.add_argument("--stage-ab", nargs=2, metavar=("ADAPTER", "KEY=VALUE"), help="the demo's evaluation "
                        "stages with its model args and with one of them changed (step 6), with a demo's adapter")
    parser.add_argument("--stages", nargs="+", default=["baseline", "tuned", "interventions"],
                        help="--stage-ab: which stages (default all three)")
    parser.add_argument("demo_args", nargs="*", help="options for tracekd demo (after --)")
    args = parser.parse_args()
    if args.stage_ab:
        print(f"cpus: {os.cpu_count()}, load average before: {load()}", flush=True)
        stage_ab(*args.stage_ab, args.stages, args.repeats if "--repeats" in sys.argv else 1)
        print(f"load average after: {load()}")
        return
    if args.store_replay:
        store_replay(args.store_replay[0], [int(mib) for mib in args.store_replay[1:]] or [1024, 2048])
        return
    if args.levers:
        print(f"cpus: {os.cpu_count()}, load average before: {load()}", flush=True)
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        levers(args.prompts or 16, args.repeats)
        print(f"load average after: {load()}")
        return
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
        progress = Path(scratch) / "demo.stderr"
        demo_wall, demo_rss, _ = measure([*tracekd, "demo", "--out", str(out), *args.demo_args], env, progress)
        print(next((line for line in progress.read_text().splitlines() if line.startswith("tracekd demo: ")), ""))
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
        story_checks(out)
        print(f"load average after the demo: {load()}")
        if not args.skip_generate:
            generation_speed(next(p for p in (out / "baseline").iterdir() if p.is_dir()), args.prompts)
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
