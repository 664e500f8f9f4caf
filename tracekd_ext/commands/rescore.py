"""``tracekd rescore``: re-score saved generations without a model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tracekd_ext.errors import TracekdError
from tracekd_ext.files.outputs import Outputs, is_stdout, json_text, jsonl_text
from tracekd_ext.formatting import summary_tables
from tracekd_ext.interventions.analysis import analyze_read, read_intervention_files
from tracekd_ext.interventions.analysis import per_sample_rows as intervention_rows
from tracekd_ext.interventions.tables import markdown
from tracekd_ext.json_safe import json_safe
from tracekd_ext.rescore import load_scored, per_sample_rows, refuse_aggregates, summarize_files
from tracekd_ext.scoring import MODES
from tracekd_ext.task_registry import TASKS


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "rescore", help="re-score lm-eval samples or predictions JSONL",
        description="Re-score saved generations (lm-eval samples_*.jsonl, or predictions JSONL with "
                    "'prediction' plus the record fields, only 'id', or the raw dataset fields) and print the "
                    "step metrics and the step-vs-answer statistics. Several files: per task and pooled over "
                    "all trace items (2x2 tables and tests that lm-eval's group averages cannot give). Samples of "
                    "intervention tasks (*_intervene_*): the paired analysis per model and dataset (accuracy per "
                    "condition, difference to gold with McNemar p, answers changed, follow rate), with the "
                    "correlational numbers of trace samples given alongside.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="samples_*.jsonl or predictions .jsonl")
    parser.add_argument("--task", choices=sorted(TASKS), help="task of the files (default: from the file name "
                        "or the samples' docs; required for raw predictions)")
    parser.add_argument("--scoring", choices=MODES, help="strict or paper (default: the mode the samples were "
                        "scored with; strict for predictions)")
    parser.add_argument("--data-dir", metavar="DIR", help="data directory that id-only predictions are resolved "
                        "against (default: $TRACEKD_DATA_DIR, else the public source)")
    parser.add_argument("--output", metavar="OUT.json", help="write the summary as JSON ('-': standard output, "
                        "the tables then go to standard error)")
    parser.add_argument("--per-sample", metavar="OUT.jsonl", help="write every item's judgements as JSONL ('-': "
                        "standard output)")
    parser.set_defaults(func=run)


def refuse_repeated_inputs(paths: list[str]) -> None:
    """The same file twice (by its resolved path) would count each of its items twice."""
    seen: dict[Path, str] = {}
    for path in paths:
        resolved = Path(path).expanduser().resolve()
        if resolved in seen:
            raise TracekdError(f"{path}: given twice (also as {seen[resolved]}); each file counts once")
        seen[resolved] = path


def run(args: argparse.Namespace) -> int:
    refuse_repeated_inputs(args.files)
    for path in args.files:
        refuse_aggregates(path)
    with Outputs(inputs=args.files) as outputs:  # checked before scoring, written together before printing
        outputs.claim(args.output, args.per_sample)
        judged, others = read_intervention_files(args.files)  # each intervention samples file read once
        if judged:
            result = analyze_read(judged, others, task=args.task, scoring=args.scoring, data_dir=args.data_dir)
            write_interventions(outputs, args, result, [it for _, items in judged for it in items])
        else:
            files = [load_scored(path, args.task, args.scoring, data_dir=args.data_dir) for path in args.files]
            summary = summarize_files(files)
            if args.output:
                outputs.write(args.output, json_text(json_safe(summary)))
            if args.per_sample:
                outputs.write(args.per_sample, jsonl_text(json_safe(row) for f in files
                                                          for row in per_sample_rows(f)))
    tables = _tables_stream(args)
    if judged:
        print(markdown(result), file=tables)
    elif len(files) == 1:
        print(summary_tables(summary, f"{summary['task']} ({summary['scoring']} scoring) - {files[0].path}"),
              file=tables)
    else:
        for task, part in summary["per_task"].items():
            print(summary_tables(part, f"{task} ({part['scoring']} scoring)"), end="\n\n", file=tables)
        print(summary_tables(summary["pooled"], "pooled over trace tasks"), file=tables)
    return 0


def _tables_stream(args: argparse.Namespace):
    """Where the printed tables go: standard error when an output file is standard output (``-``)."""
    return sys.stderr if any(p is not None and is_stdout(p) for p in (args.output, args.per_sample)) else sys.stdout


def write_interventions(outputs: Outputs, args: argparse.Namespace, result: dict, items: list) -> None:
    """Intervention samples (``*_intervene_*``): the paired analysis per model and dataset (trace samples
    given with them add the correlational numbers) and one row per judged item."""
    if args.output:
        outputs.write(args.output, json_text(json_safe(result)))
    if args.per_sample:
        outputs.write(args.per_sample, jsonl_text(json_safe(row) for row in intervention_rows(items)))
