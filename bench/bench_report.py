"""Benchmark: `tracekd report` on 50,000 synthetic samples across runs, against the 30 s target.

Writes lm-eval-shaped output folders (one per run: samples_cotemp_trace_<date>.jsonl + results_<date>.json)
whose generations are built from real CoTemp problems with tracekd_ext.trace_format: gold traces,
perturbed traces (wrong label and/or units, as in the paper's incorrect variant), wrong answers, dropped
units, truncated and untagged generations, mixed in different proportions per run. Then times, each in
a fresh process: `tracekd rescore` on all samples files (the baseline: loading and scoring alone) and
`tracekd report` on the run folders.

  python bench/bench_report.py [--samples 50000] [--runs 5] [--work DIR] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracekd_ext.adapters import get_spec  # noqa: E402
from tracekd_ext.lm_eval_glue import make_doc, process_results  # noqa: E402
from tracekd_ext.trace_format import render_target, render_trace  # noqa: E402

TARGET_SECONDS = 30.0
TIMESTAMP = "2026-01-01T00-00-00.000000"
KINDS = ("gold", "incorrect", "wrong_cls", "wrong_answer", "dropped_unit", "truncated", "untagged")


def generation(problem, spec, kind: str, rng: random.Random) -> str:
    """One synthetic model output of the given kind for ``problem``."""
    gold = render_target(problem, spec, "correct")
    if kind == "gold":
        return gold
    if kind == "incorrect":  # the paper's incorrect variant: both steps wrong, answer right
        return render_target(problem, spec, "incorrect", seed=rng.randrange(10**6))
    if kind == "wrong_cls":
        return render_target(problem, spec, "incorrect", seed=rng.randrange(10**6), perturb_steps=("cls",))
    if kind == "wrong_answer":
        others = [u for i, u in enumerate(problem.units) if i not in problem.support] or list(problem.units)
        wrong = " ".join(rng.choice(others).split(" in ")[0].split()[-2:])
        return render_trace(spec, problem.label, problem.support_units, repr([wrong]))
    if kind == "dropped_unit":
        units = problem.support_units[:-1] if len(problem.support) > 1 else problem.support_units + [problem.units[0]]
        return render_trace(spec, problem.label, units, spec.render_answer(problem))
    if kind == "truncated":
        return gold[: rng.randrange(10, max(11, len(gold)))]
    return f"The answer is {problem.answers[0]}."  # untagged free text


def write_run(folder: Path, index: int, problems, spec, n_samples: int) -> Path:
    """One lm-eval-shaped run folder with ``n_samples`` rows cycling over ``problems``."""
    rng = random.Random(index)
    weights = [rng.uniform(0.2, 1.0) * (3 if kind == "gold" else 1) for kind in KINDS]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"samples_cotemp_trace_{TIMESTAMP}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for doc_id in range(n_samples):
            problem = problems[(doc_id * 7 + index) % len(problems)]
            doc = make_doc(problem, "trace", "strict", True)
            text = generation(problem, spec, rng.choices(KINDS, weights)[0], rng)
            row = {"doc_id": doc_id, "doc": doc, "target": doc["target"],
                   "arguments": {"gen_args_0": {"arg_0": doc["prompt"], "arg_1": {"until": [], "max_gen_toks": 512}}},
                   "resps": [[text]], "filtered_resps": [text], "filter": "none",
                   "metrics": ["parse_ok", "answer_acc"], "doc_hash": "0", "prompt_hash": "0", "target_hash": "0",
                   **process_results(doc, [text])}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    results = {"results": {}, "config": {"model": "hf", "model_args": {"pretrained": f"bench/model-{index}"}}}
    (folder / f"results_{TIMESTAMP}.json").write_text(json.dumps(results), encoding="utf-8")
    return path


def timed(command: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, worker processes included) of ``command`` in a fresh process,
    imports included; its output is discarded. CPU time does not depend on what else the machine runs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=50_000, help="samples across all runs")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", help="folder for the synthetic runs and the report (default: a temporary one)")
    parser.add_argument("--data-dir", default=os.environ.get("TRACEKD_DATA_DIR", "/work/shared/data"))
    parser.add_argument("--reuse", action="store_true", help="keep the runs already in --work (skip writing them)")
    parser.add_argument("--jobs", type=int, default=0, help="tracekd report --jobs (default 0: its default, one per "
                        "CPU but one)")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="bench_report_"))
    spec = get_spec("cotemp")
    problems = spec.load(args.data_dir, "all")
    per_run = args.samples // args.runs
    started = time.perf_counter()
    folders = [work / "runs" / f"model-{i}" for i in range(args.runs)]
    files = [folder / f"samples_cotemp_trace_{TIMESTAMP}.jsonl" for folder in folders]
    if not (args.reuse and all(f.is_file() for f in files)):
        files = [write_run(folder, i, problems, spec, per_run) for i, folder in enumerate(folders)]
    size_mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"{per_run * args.runs} samples in {args.runs} runs ({size_mb:.0f} MB of samples files, "
          f"{len(problems)} distinct CoTemp problems) ready in {time.perf_counter() - started:.1f} s under {work}")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (wall times grow with the load)")

    cli = [sys.executable, "-m", "tracekd_ext.cli"]
    rescore_s, rescore_cpu = timed([*cli, "rescore", *map(str, files), "--output", str(work / "rescore.json")])
    report_s, report_cpu = timed([*cli, "report", *map(str, folders), "--out", str(work / "report"),
                                  "--jobs", str(args.jobs)])
    html_mb = (work / "report" / "report.html").stat().st_size / 1e6
    print(f"tracekd rescore (baseline: one process, load + score + statistics): wall {rescore_s:6.1f} s, "
          f"CPU {rescore_cpu:6.1f} s")
    jobs = args.jobs or "default"
    print(f"tracekd report  (+ tables, figures, HTML browser; --jobs {jobs}): wall {report_s:6.1f} s, "
          f"CPU {report_cpu:6.1f} s; wall = {report_s / rescore_s:.2f} x rescore; report.html {html_mb:.1f} MB")
    verdict = "meets" if report_s < TARGET_SECONDS else "MISSES"
    print(f"target: < {TARGET_SECONDS:.0f} s wall for {per_run * args.runs} samples -> {verdict} "
          f"({report_s / TARGET_SECONDS:.2f} of the budget)")


if __name__ == "__main__":
    main()
