"""``tracekd data export``: decomposed records with their prompt and rendered target."""

from __future__ import annotations

import argparse

from tracekd_ext.adapters import DATASETS, get_spec
from tracekd_ext.data_source import resolve_data_dir
from tracekd_ext.jsonl import write_jsonl_atomic
from tracekd_ext.trace_format import PERTURBABLE_STEPS, VARIANTS, render_prompt, render_target


def add_parser(subparsers) -> None:
    data = subparsers.add_parser("data", help="dataset utilities", description="Dataset utilities.")
    commands = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    export = commands.add_parser(
        "export", help="write decomposed records with prompt and target as JSONL",
        description="Write the decomposed records (id, label, units, question, support, answers, meta) with "
                    "the prompt and the rendered target of a variant, one JSON object per line.")
    export.add_argument("--dataset", required=True, choices=DATASETS)
    export.add_argument("--data-dir", help="local data directory (default: $TRACEKD_DATA_DIR, else the hub)")
    export.add_argument("--split", default="test", choices=("test", "train", "all"))
    export.add_argument("--variant", default="correct", choices=VARIANTS)
    export.add_argument("--seed", type=int, default=42, help="seed of the incorrect variant's perturbations")
    export.add_argument("--perturb", nargs="+", default=list(PERTURBABLE_STEPS), choices=PERTURBABLE_STEPS,
                        help="steps an incorrect trace gets wrong")
    export.add_argument("--perturb-probability", type=float, default=1.0,
                        help="probability that each chosen step is perturbed")
    export.add_argument("--instruction", action="store_true", help="append the trace-format instruction to prompts")
    export.add_argument("--out", required=True, metavar="FILE.jsonl")
    export.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    spec = get_spec(args.dataset)
    problems = spec.load(resolve_data_dir(args.data_dir), args.split)
    rows = []
    for problem in problems:
        row = problem.to_dict()
        row["prompt"] = render_prompt(problem, spec, instruction=args.instruction)
        row["target"] = render_target(problem, spec, args.variant, seed=args.seed, perturb_steps=args.perturb,
                                      perturb_probability=args.perturb_probability)
        rows.append(row)
    write_jsonl_atomic(args.out, rows)
    print(f"wrote {len(rows)} {args.dataset} {args.split} records ({args.variant}) to {args.out}")
    return 0
