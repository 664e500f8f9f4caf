"""Benchmark: `tracekd report` on 50,000 synthetic samples across runs, against the 30 s target; the size of
report.html (target: under 20 MB for 100,000 samples in 5 runs, with the browser's default bound, beside the
unbounded page `--browser-samples all` as the baseline) and, where Debian's Chromium is installed, how long
the page takes to become interactive in it (target: within 3 s).

Writes lm-eval-shaped output folders (one per run: samples_cotemp_trace_<date>.jsonl + results_<date>.json)
whose generations are built from real CoTemp problems with tracekd_ext.trace_format: gold traces,
perturbed traces (wrong label and/or units, as in the paper's incorrect variant), wrong answers, dropped
units, truncated and untagged generations, mixed in different proportions per run. Then times, each in
a fresh process: `tracekd rescore` on each samples file (the baseline: loading and scoring alone) and
`tracekd report` on the run folders, then `tracekd report --browser-samples all` (the unbounded page).

  python bench/bench_report.py [--samples 50000] [--runs 5] [--work DIR] [--data-dir DIR] [--no-unbounded]
"""

from __future__ import annotations

import argparse
import dataclasses
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
from tracekd_ext.harness.task_hooks import make_doc, process_results  # noqa: E402
from tracekd_ext.trace_format import render_target, render_trace  # noqa: E402

TARGET_SECONDS = 30.0
TARGET_HTML_MB = 20.0  # for 100,000 samples in 5 runs
TARGET_INTERACTIVE_S = 3.0
CHROMIUM = Path("/usr/bin/chromium")
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
    """One lm-eval-shaped run folder with ``n_samples`` rows cycling over ``problems`` (the same items in every
    run, as runs of one task; repeats past the last problem get ids of their own)."""
    rng = random.Random(index)
    weights = [rng.uniform(0.2, 1.0) * (3 if kind == "gold" else 1) for kind in KINDS]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"samples_cotemp_trace_{TIMESTAMP}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for doc_id in range(n_samples):
            problem = problems[doc_id % len(problems)]
            if doc_id >= len(problems):  # more samples than problems: a copy under its own id (items count once)
                problem = dataclasses.replace(problem, id=f"{problem.id}~{doc_id // len(problems)}")
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


def chromium_times(html: Path) -> tuple[float, float, int] | None:
    """Seconds from opening ``html`` in headless Chromium until the sample browser shows its first page, then
    for one filter change (the 2x2 cell) to re-render, and the samples the browser carries; None without
    playwright or Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not CHROMIUM.is_file():
        return None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox",
                                                                                 "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        started = time.perf_counter()
        page.goto(html.as_uri(), timeout=300_000)
        page.wait_for_selector("#sample-list article", timeout=300_000)
        loaded = time.perf_counter() - started
        carried = page.evaluate("document.getElementById('sample-count').textContent")
        before = page.locator("#sample-count").get_attribute("data-count")
        started = time.perf_counter()
        page.select_option("#filter-cell", "ff")
        page.wait_for_function(f"document.getElementById('sample-count').dataset.count !== '{before}'",
                               timeout=300_000)
        filtered = time.perf_counter() - started
        browser.close()
    return loaded, filtered, int(carried.split(" samples in the browser")[0].split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=50_000, help="samples across all runs")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", help="folder for the synthetic runs and the report (default: a temporary one)")
    parser.add_argument("--data-dir", default=os.environ.get("TRACEKD_DATA_DIR") or str(ROOT.parent / "shared/data"),
                        help="the offline data copy (default: $TRACEKD_DATA_DIR, else ../shared/data beside the repo)")
    parser.add_argument("--reuse", action="store_true", help="keep the runs already in --work (skip writing them)")
    parser.add_argument("--jobs", type=int, default=0, help="tracekd report --jobs (default 0: its default, one per "
                        "CPU but one)")
    parser.add_argument("--no-unbounded", action="store_true", help="skip the baseline report with "
                        "--browser-samples all")
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
    # the baseline: each run's file on its own (one rescore may not count the same items of several runs)
    rescore_s = rescore_cpu = 0.0
    for i, path in enumerate(files):
        seconds, cpu = timed([*cli, "rescore", str(path), "--output", str(work / f"rescore-{i}.json")])
        rescore_s, rescore_cpu = rescore_s + seconds, rescore_cpu + cpu
    report_s, report_cpu = timed([*cli, "report", *map(str, folders), "--out", str(work / "report"),
                                  "--jobs", str(args.jobs)])
    html_mb = (work / "report" / "report.html").stat().st_size / 1e6
    print(f"tracekd rescore (baseline: each run's file in its own process, load + score + statistics, summed): "
          f"wall {rescore_s:6.1f} s, "
          f"CPU {rescore_cpu:6.1f} s")
    jobs = args.jobs or "default"
    print(f"tracekd report  (+ tables, figures, HTML browser; --jobs {jobs}): wall {report_s:6.1f} s, "
          f"CPU {report_cpu:6.1f} s; wall = {report_s / rescore_s:.2f} x rescore; report.html {html_mb:.1f} MB")
    verdict = "meets" if report_s < TARGET_SECONDS else "MISSES"
    print(f"target: < {TARGET_SECONDS:.0f} s wall for {per_run * args.runs} samples -> {verdict} "
          f"({report_s / TARGET_SECONDS:.2f} of the budget)")
    html = work / "report" / "report.html"
    verdict = "meets" if html_mb < TARGET_HTML_MB else "MISSES"
    print(f"report.html (default browser bound): {html_mb:.1f} MB; target < {TARGET_HTML_MB:.0f} MB for 100,000 "
          f"samples in 5 runs -> {verdict}")
    browser = chromium_times(html)
    if browser is None:
        print("Chromium or playwright not installed: no browser timing (apt-get install -y chromium)")
    else:
        loaded, filtered, carried = browser
        verdict = "meets" if loaded < TARGET_INTERACTIVE_S else "MISSES"
        print(f"Chromium (headless): first page of the browser after {loaded:.2f} s, a filter change re-renders in "
              f"{filtered:.2f} s; {carried} samples carried; target < {TARGET_INTERACTIVE_S:.0f} s -> {verdict}")
    if args.no_unbounded:
        return
    all_s, _ = timed([*cli, "report", *map(str, folders), "--out", str(work / "report_all"), "--jobs",
                      str(args.jobs), "--browser-samples", "all"])
    all_html = work / "report_all" / "report.html"
    all_mb = all_html.stat().st_size / 1e6
    print(f"baseline --browser-samples all: report.html {all_mb:.1f} MB ({html_mb / all_mb:.3f} x it for the "
          f"bounded page), report wall {all_s:.1f} s ({report_s / all_s:.2f} x it for the bounded one)")
    browser = chromium_times(all_html)
    if browser is not None:
        print(f"Chromium, unbounded page: first page after {browser[0]:.2f} s, filter change {browser[1]:.2f} s, "
              f"{browser[2]} samples carried")


if __name__ == "__main__":
    main()
