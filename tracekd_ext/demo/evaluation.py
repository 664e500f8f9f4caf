"""One lm-eval run of the demo, saved as lm-eval's CLI saves it, and the check that lm-eval's aggregated
metrics equal ``tracekd rescore``'s numbers of the saved samples."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracekd_ext.errors import TracekdError
from tracekd_ext.metrics import PAIR_METRICS, STEP_METRICS
from tracekd_ext.task_registry import tasks_dir


@dataclass(frozen=True)
class EvalRequest:
    """What ``simple_evaluate`` gets; every field has its ``tracekd eval`` flag (see ``plan.eval_command``);
    ``task_files``: task -> a task YAML to load it from instead (``--tasks FILE``)."""

    model_args: dict[str, str]
    tasks: list[str]
    num_fewshot: int
    limit: int
    batch_size: int
    device: str
    max_gen_toks: int | None
    metadata: dict[str, Any]
    output_path: Path
    task_files: dict[str, Path] = field(default_factory=dict)

    @property
    def task_specs(self) -> list[str]:
        """What ``--tasks`` gets: each task's name, or the YAML it is loaded from."""
        return [str(self.task_files.get(task, task)) for task in self.tasks]


@dataclass(frozen=True)
class EvalRun:
    """Where lm-eval wrote a run, its aggregated results per task, and the lm-eval model that ran it (a later
    evaluation of the same model can run on it: the model stays loaded and its prompt-prefix store filled)."""

    results: dict[str, dict[str, Any]]
    run_dir: Path
    samples: dict[str, Path]
    results_file: Path
    model: Any = None


def load_model(request: EvalRequest) -> Any:
    """The lm-eval model (``tracekd-hf``) that ``tracekd eval --model tracekd-hf`` builds for the same request."""
    from tracekd_ext.harness.model import register_tracekd_hf

    return register_tracekd_hf().create_from_arg_obj(
        dict(request.model_args), {"batch_size": request.batch_size, "device": request.device})


def evaluate(request: EvalRequest, model: Any = None, keep_model: bool = False) -> EvalRun:
    """Run lm-eval (``tracekd-hf`` model, chat template, greedy) and save results and samples as its CLI does;
    ``model``: an already loaded model of ``request.model_args``; ``keep_model``: return it in ``EvalRun.model``
    (otherwise None, so that its memory goes with the run)."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager
    from lm_eval.utils import get_file_task_name, get_results_filenames, get_sample_results_filenames

    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    model = load_model(request) if model is None else model
    tracker = EvaluationTracker(output_path=str(request.output_path))
    gen_kwargs = {"max_gen_toks": request.max_gen_toks} if request.max_gen_toks else None
    results = simple_evaluate(
        model=model, model_args=dict(request.model_args), tasks=request.task_specs, num_fewshot=request.num_fewshot,
        batch_size=request.batch_size, device=request.device, limit=request.limit, log_samples=True,
        evaluation_tracker=tracker, apply_chat_template=True, fewshot_as_multiturn=request.num_fewshot > 0,
        gen_kwargs=gen_kwargs, bootstrap_iters=0,
        task_manager=TaskManager(include_path=tasks_dir(), include_defaults=False, metadata=request.metadata),
    )
    samples = results.pop("samples")
    written = saved_files(request.output_path, lambda: save(tracker, results, samples))
    (results_file,) = map(Path, get_results_filenames(written))
    return EvalRun(results["results"], results_file.parent,
                   {get_file_task_name(Path(f).name): Path(f) for f in get_sample_results_filenames(written)},
                   results_file, model if keep_model else None)


def save(tracker: Any, results: dict[str, Any], samples: dict[str, list]) -> None:
    """Save results and samples as lm-eval's CLI does."""
    tracker.save_results_aggregated(results=results, samples=samples)
    for task in results["configs"]:
        tracker.save_results_samples(task_name=task, samples=samples[task])


def saved_files(folder: Path, save_them: Any) -> list[str]:
    """The files ``save_them()`` writes under ``folder`` (lm-eval 0.4.13's save methods return nothing: the files
    are the ones that appear), as paths for lm-eval's own readers of its file names."""
    before = set(folder.rglob("*")) if folder.is_dir() else set()
    save_them()
    return sorted(str(p) for p in folder.rglob("*") if p.is_file() and p not in before)


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
