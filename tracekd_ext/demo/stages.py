"""The demo's stages, one function each: every stage says what it does and the command that does the same
without the demo, runs real components (lm-eval, the training module, the report) through their library
functions, and returns where its results are. The printed numbers are ``tracekd rescore``'s numbers of the saved
samples, checked against lm-eval's own aggregates before they are shown."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracekd_ext.demo.evaluation import EvalRequest, EvalRun, check_against_lm_eval, evaluate
from tracekd_ext.demo.plan import (
    INTERVENTION_CONDITIONS,
    INTERVENTION_TASK,
    SYNTH_TASK,
    DemoPlan,
    eval_command,
    fewshot_task_files,
    train_command,
)
from tracekd_ext.errors import TracekdError
from tracekd_ext.files.outputs import write_json
from tracekd_ext.formatting import summary_tables
from tracekd_ext.json_safe import json_safe
from tracekd_ext.rescore import load_scored, summarize_files

STAGES = 5


def announce(number: int, title: str, what: str, command: str | None = None) -> None:
    """The stage's header on standard error (with lm-eval's and the trainer's progress bars)."""
    lines = [f"\n[{number}/{STAGES}] {title}: {what}"]
    if command:
        lines.append(f"      same without the demo: {command}")
    print("\n".join(lines), file=sys.stderr, flush=True)


@dataclass(frozen=True)
class EvalStageResult:
    """A scored evaluation stage: lm-eval's run, rescore's summary and the seconds it took."""

    label: str
    run: EvalRun
    summary: dict[str, Any]
    rescore_file: Path
    seconds: float


def _evaluate_and_print(plan: DemoPlan, label: str, request: EvalRequest, keep_model: bool = False) -> EvalStageResult:
    started = time.perf_counter()
    run = evaluate(request, keep_model=keep_model)
    seconds = time.perf_counter() - started
    files = [load_scored(run.samples[task]) for task in request.tasks]
    summary = summarize_files(files)
    summaries = {files[0].task: summary} if len(files) == 1 else summary["per_task"]
    checked = check_against_lm_eval(run.results, summaries)
    for task, part in summaries.items():
        print(summary_tables(part, f"{label}: {task} ({part['scoring']} scoring) - {run.samples[task]}"), end="\n\n")
    if len(files) > 1:
        print(summary_tables(summary["pooled"], f"{label}: pooled over trace tasks"), end="\n\n")
    rescore_file = request.output_path / "rescore.json"
    write_json(rescore_file, json_safe(summary))
    print(f"{label}: lm-eval's aggregated metrics equal these rescore numbers ({checked} values checked); "
          f"{seconds:.0f} s. Same numbers again: tracekd rescore "
          + " ".join(str(p) for p in run.samples.values()), end="\n\n", flush=True)
    return EvalStageResult(label, run, summary, rescore_file, seconds)


def baseline_stage(plan: DemoPlan) -> EvalStageResult:
    """Stage 1: the untuned model, few-shot (gold traces from the train split as earlier chat turns)."""
    request = EvalRequest(plan.model_args(), plan.tasks, plan.num_fewshot, plan.limit, plan.batch_size, plan.device,
                          plan.budgets.trace, plan.metadata(), plan.out / "baseline",
                          fewshot_task_files(plan) if plan.num_fewshot else {})
    shots = "the same for every problem" if request.task_files else "drawn per problem"
    announce(1, "baseline", f"{plan.model} {plan.num_fewshot}-shot ({shots}) on {', '.join(plan.tasks)}, "
             f"{plan.limit} problems, greedy, stops at </answer> (at most {plan.budgets.trace} new tokens), "
             f"{plan.dtype}",
             eval_command(request.model_args, request.task_specs, plan.num_fewshot, plan, request.output_path,
                          plan.budgets.trace, request.metadata))
    return _evaluate_and_print(plan, "baseline", request)


def train_stage(plan: DemoPlan) -> Path:
    """Stage 2: LoRA fine-tuning on correct traces with the training module (the options ``tracekd train`` is
    given in the printed command, read by its parser); returns the adapter folder."""
    from tracekd_train.config import parse_config
    from tracekd_train.trainer import run

    announce(2, "fine-tune", f"LoRA on the 'correct' traces of {plan.train_examples} synthetic training problems, "
             f"{plan.train_steps} steps of {plan.train_batch} at learning rate {plan.learning_rate:g}",
             train_command(plan))
    started = time.perf_counter()
    run(parse_config(plan.train_args()))
    if not (plan.adapter_dir / "adapter_config.json").is_file():
        raise TracekdError(f"tracekd train wrote no adapter to {plan.adapter_dir}")
    print(f"fine-tune: adapter written to {plan.adapter_dir} in {time.perf_counter() - started:.0f} s", end="\n\n",
          flush=True)
    return plan.adapter_dir


def tuned_stage(plan: DemoPlan, adapter: Path) -> EvalStageResult:
    """Stage 3: the same test problems through lm-eval with the adapter loaded (``peft=``), zero-shot."""
    request = EvalRequest(plan.model_args(adapter), plan.tasks, 0, plan.limit, plan.batch_size, plan.device,
                          plan.budgets.trace, plan.metadata(), plan.out / "tuned")
    announce(3, "tuned", f"the adapter on the same {plan.limit} problems, zero-shot",
             eval_command(request.model_args, plan.tasks, 0, plan, request.output_path, plan.budgets.trace,
                          request.metadata))
    return _evaluate_and_print(plan, "tuned", request, keep_model=True)  # stage 4 runs on the same model


def run_interventions_stage(plan: DemoPlan, tuned: EvalStageResult, adapter: Path) -> dict[str, Any]:
    """Stage 4: the tuned model answers after a forced trace (``cotemp_synth_intervene_<condition>``: gold,
    wrong retrieval, no trace) on the same problems, on stage 3's loaded model (each intervention prompt is a
    tuned prompt plus the forced trace, so its prefill starts where stage 3's stopped). Its samples go into the
    tuned run's folder, so the report pairs them with the tuned model's free generations; prints and returns the
    paired analysis (what ``tracekd rescore`` prints of the same samples)."""
    from tracekd_ext.interventions.analysis import analyze
    from tracekd_ext.interventions.tables import markdown

    tasks = [INTERVENTION_TASK.format(c) for c in INTERVENTION_CONDITIONS]
    model_args = plan.model_args(adapter)
    request = EvalRequest(model_args, tasks, 0, plan.limit, plan.batch_size, plan.device, plan.budgets.answer,
                          plan.metadata(), tuned.run.run_dir.parent)
    announce(4, "interventions", f"the adapter answers after a forced trace ({', '.join(INTERVENTION_CONDITIONS)}) "
             f"on the same {plan.limit} problems (at most {plan.budgets.answer} new tokens: the answer)",
             eval_command(model_args, tasks, 0, plan, request.output_path, plan.budgets.answer,
                          request.metadata))
    started = time.perf_counter()
    run = evaluate(request, model=tuned.run.model)  # loaded, and its prefix store holds the tuned prompts
    files = [*run.samples.values(), tuned.run.samples[SYNTH_TASK]]  # the trace run of the intervened problems
    result = analyze(files)
    print(markdown(result), end="\n\n")
    print(f"interventions: {time.perf_counter() - started:.0f} s. Same numbers again: tracekd rescore "
          + " ".join(str(p) for p in files), end="\n\n", flush=True)
    return result


def report_stage(plan: DemoPlan, evaluations: list[EvalStageResult]) -> Path:
    """Stage 5: one ``tracekd report`` of every evaluation (the tuned run's folder holds the intervention
    samples too), side by side; prints its headline."""
    from tracekd_ext.report.build import build_report
    from tracekd_ext.report.markdown import headline_markdown

    out = plan.out / "report"
    runs = [str(e.run.run_dir) for e in evaluations]
    names = {str(e.run.run_dir): e.label for e in evaluations}
    announce(5, "report", f"{' vs '.join(e.label for e in evaluations)} side by side",
             "tracekd report " + " ".join(runs) + f" --out {out} "
             + " ".join(f"--name {run}={label}" for run, label in names.items()))
    files = build_report(runs, out, names=names, title="tracekd demo", progress=False)
    print(headline_markdown(files.headline), end="\n\n")  # as report.md has it
    print(f"report: {files.html} (also {files.markdown.name}, {files.json.name} and {len(files.figures)} figures)")
    return out
