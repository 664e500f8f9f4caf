"""Inputs for the report tests: lm-eval-shaped samples files written without a model, and real lm-eval runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from data_paths import DATA, require_data

from tracekd_ext.adapters import get_spec
from tracekd_ext.harness.task_hooks import make_doc, process_results
from tracekd_ext.record import Problem
from tracekd_ext.trace_format import render_prompt, render_target, render_trace

TIMESTAMP = "2026-01-01T00-00-00.000000"


def cotemp_problems(n: int, split: str = "test") -> list[Problem]:
    return list(get_spec("cotemp").load(require_data(), split))[:n]


def varied_generation(problem: Problem, i: int) -> str:
    """Generations covering every cell of the trace x answer table, and a parse failure."""
    spec = get_spec("cotemp")
    kind = i % 5
    if kind == 0:
        return render_target(problem, spec, "correct")  # trace right, answer right
    if kind == 1:
        return render_target(problem, spec, "incorrect", seed=i)  # trace wrong, answer right
    if kind == 2:  # trace right, answer wrong
        return render_trace(spec, problem.label, problem.support_units, "['nobody at all']")
    if kind == 3:  # trace wrong, answer wrong
        return render_trace(spec, problem.label, [], "['nobody at all']")
    return "I am not sure </script><script>window.injected = 1</script>"  # unparsable, with markup to stay inert


def samples_row(problem: Problem, generation: str, doc_id: int, scoring: str = "strict", kind: str = "trace") -> dict:
    """One row as lm-eval writes it to samples_<task>_<date>.jsonl."""
    doc = make_doc(problem, kind, scoring, True)
    return {"doc_id": doc_id, "doc": doc, "target": doc["target"],
            "arguments": {"gen_args_0": {"arg_0": doc["prompt"], "arg_1": {"until": []}}},
            "resps": [[generation]], "filtered_resps": [generation], "filter": "none",
            **process_results(doc, [generation])}


def write_samples(path: Path, rows: Sequence[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def write_run_folder(folder: Path, problems: Sequence[Problem], generations: Sequence[str], *, pretrained: str,
                     scoring: str = "strict", task: str = "cotemp_trace") -> Path:
    """An lm-eval output model folder: samples file plus a results JSON naming the model."""
    rows = [samples_row(p, g, i, scoring) for i, (p, g) in enumerate(zip(problems, generations, strict=True))]
    write_samples(folder / f"samples_{task}_{TIMESTAMP}.jsonl", rows)
    results = {"results": {}, "config": {"model": "hf", "model_args": {"pretrained": pretrained}}}
    (folder / f"results_{TIMESTAMP}.json").write_text(json.dumps(results), encoding="utf-8")
    return folder


def tiny_corpus(n: int = 120) -> list[str]:
    spec = get_spec("cotemp")
    return [render_prompt(p, spec) + render_target(p, spec, "correct") for p in cotemp_problems(n, "train")]


def run_lm_eval(model_dir: Path, output_path: Path, limit: int = 4, max_gen_toks: int = 16) -> Path:
    """A real lm-eval run of cotemp_trace with --log_samples; returns the model folder it wrote."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    from tracekd_ext.task_registry import tasks_dir

    tracker = EvaluationTracker(output_path=str(output_path))
    results = simple_evaluate(
        model="hf", model_args={"pretrained": str(model_dir)}, tasks=["cotemp_trace"], limit=limit, device="cpu",
        batch_size=4, log_samples=True, evaluation_tracker=tracker, bootstrap_iters=0,
        gen_kwargs={"max_gen_toks": max_gen_toks},
        task_manager=TaskManager(include_path=tasks_dir(), include_defaults=False,
                                 metadata={"data_dir": str(DATA)}))
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    tracker.save_results_samples(task_name="cotemp_trace", samples=samples["cotemp_trace"])
    (folder,) = [p for p in output_path.iterdir() if p.is_dir()]
    return folder


def copy_from_forced_units(doc: dict, doc_id: int) -> str:
    """A scripted answer to an intervention doc that copies the entities of the forced units that the
    question does not name (so it follows corrupted units); free-generation docs get varied traces."""
    from tracekd_ext.adapters.cotemp_answer import fact_entities

    if doc.get("kind") != "intervene":
        return varied_generation(Problem.from_dict(doc), doc_id)
    units = tuple(doc["units"][i] for i in (doc["forced_support"] or doc["support"]))
    entities = {e for subject in (True, False) for e in fact_entities(units, subject)}
    fresh = [e for e in entities if e not in doc["question"].lower()]
    gold_text = " ".join(doc["units"][i] for i in doc["support"]).lower()
    return repr(sorted(fresh or [e for e in entities if e not in gold_text]))


def answer_from_gold(doc: dict, doc_id: int) -> str:
    """A scripted answer that ignores a forced trace: the gold answer (free generation: varied traces)."""
    if doc.get("kind") != "intervene":
        return varied_generation(Problem.from_dict(doc), doc_id + 1)
    return repr(list(doc["answers"])) if doc_id % 3 else "['nobody at all']"


def run_scripted_lm_eval(folder: Path, answer, tasks: Sequence[str], limit: int) -> list[Path]:
    """A real ``simple_evaluate`` of ``tasks`` with a scripted LM (tests/oracle_lm.py), --log_samples; the
    samples written into ``folder`` as lm-eval names them (the folder names the model)."""
    import lm_eval
    from lm_eval.tasks import TaskManager
    from oracle_lm import oracle_lm

    from tracekd_ext.task_registry import tasks_dir

    out = lm_eval.simple_evaluate(model=oracle_lm(answer), tasks=list(tasks), limit=limit, log_samples=True,
                                  bootstrap_iters=0,
                                  task_manager=TaskManager(include_path=tasks_dir(), include_defaults=False))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for task, rows in out["samples"].items():
        paths.append(folder / f"samples_{task}_{TIMESTAMP}.jsonl")
        paths[-1].write_text("".join(json.dumps(row, default=str) + "\n" for row in rows), encoding="utf-8")
    return sorted(paths)
