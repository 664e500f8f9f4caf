"""``tracekd report``: compare runs side by side (tables, confusion matrices, accuracy bars, sample browser)."""

from __future__ import annotations

import argparse

from tracekd_ext.errors import TracekdError
from tracekd_ext.options import nonnegative_int, positive_int
from tracekd_ext.report.browser_data import DEFAULT_BROWSER_SAMPLES
from tracekd_ext.scoring import MODES

DESCRIPTION = """Compare runs side by side. Each RUN is an lm-eval output folder (samples_*.jsonl with
results_*.json, directly or in model-named subfolders: one run per subfolder; the newest samples file of each
task is used), one samples file, a predictions JSONL file (generations from elsewhere: raw dataset fields,
common records, or id + prediction with --data-dir; --task names their task), or a `tracekd rescore
--output` JSON (aggregates only: tables and figures, not the sample browser). Samples are re-scored from the
saved generations, so --scoring switches between strict and paper scoring without rerunning any model.

Writes into DIR: report.md (one table per task and a pooled one, with 95% CIs, phi, chi-square and Fisher
tests), report.json (every number behind it), confusion_{trace,cls,ret}.png (2x2 counts and row shares,
one panel per run x task), answer_accuracy.png, and report.html (self-contained: tables, figures and a
sample browser). The tables and figures use every sample; the browser carries up to --browser-samples
samples per samples file and 2x2 cell of trace and answer (evenly spaced by line; the page says how many
of how many), so that a report of 100,000 samples stays a page that opens in seconds. Samples of intervention
tasks (*_intervene_*) add an Interventions section: the paired
analysis of tracekd rescore per run and dataset, beside the run's free-generation trace numbers, and
interventions_accuracy.png; the sample browser shows them with the forced trace and filters by condition.

Example:
  tracekd report runs/llama-correct runs/llama-incorrect --out report --name runs/llama-correct=correct
"""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("report", help="compare runs: tables, figures and an HTML sample browser",
                                   description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN", help="lm-eval output folder, samples file or rescore JSON")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the report files (created)")
    parser.add_argument("--scoring", choices=MODES, help="re-score every sample in this mode (default: the mode the "
                        "samples were scored with; runs in different modes need this)")
    parser.add_argument("--name", action="append", default=[], metavar="RUN=LABEL",
                        help="label of a run (RUN: the argument as given or its last name, its model folder, or its "
                             "default label: the model name from results_*.json, else the folder or file name)")
    parser.add_argument("--jobs", type=nonnegative_int, default=0, metavar="N",
                        help="worker processes that score samples files in parallel, one file each (default 0: one per "
                             "CPU but one, so 1 on a 2-CPU machine; used only for inputs over 50 MB; on a busy "
                             "machine 1 is fastest)")
    parser.add_argument("--task", help="task of predictions JSONL inputs (e.g. cotemp_trace); default: each "
                        "line's dataset field or id prefix, scored as a trace task")
    parser.add_argument("--data-dir", help="data folder for predictions that give only an id (else "
                        "$TRACEKD_DATA_DIR, else the public source)")
    parser.add_argument("--title", default="tracekd report", help="title of report.md and report.html")
    parser.add_argument("--browser-samples", type=browser_samples, default=DEFAULT_BROWSER_SAMPLES, metavar="N|all",
                        help="samples the HTML browser carries per samples file and 2x2 cell of trace and answer "
                             "(interventions: of follows-trace and answer), evenly spaced by line; 'all': every "
                             "sample (a large page) (default %(default)s)")
    parser.set_defaults(func=run)


def browser_samples(text: str) -> int | None:
    """``--browser-samples``: ``all`` (None: no bound) or an integer of at least 1."""
    return None if text == "all" else positive_int(text)


def default_jobs() -> int:
    """One worker per available CPU but one (the main process merges the results and draws the figures)."""
    import os

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cpus - 1)


def run(args: argparse.Namespace) -> int:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise TracekdError("tracekd report draws its figures with matplotlib: pip install 'tracekd[report]'") from None
    from tracekd_ext.report.build import build_report
    from tracekd_ext.report.sources import PredictionsOptions, parse_names

    jobs = args.jobs if args.jobs > 0 else default_jobs()
    files = build_report(args.runs, args.out, scoring=args.scoring, names=parse_names(args.name), title=args.title,
                         jobs=jobs, reading=PredictionsOptions(args.task, args.data_dir),
                         browser_samples=args.browser_samples)
    size_mb = files.html.stat().st_size / 1e6
    print(f"report of {files.runs} run(s), {files.samples} samples in {files.seconds:.1f} s:\n"
          f"  {files.markdown}\n  {files.html} ({size_mb:.1f} MB)\n  {files.json}\n"
          f"  {len(files.figures)} figures in {files.markdown.parent}")
    return 0
