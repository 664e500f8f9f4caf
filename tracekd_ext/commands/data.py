"""``tracekd data export``: decomposed records with their prompt and rendered target."""

from __future__ import annotations

import argparse
import sys

from tracekd_ext.adapters import DATASETS, get_spec
from tracekd_ext.data_source import resolve_data_dir
from tracekd_ext.errors import TracekdError
from tracekd_ext.files.outputs import Outputs, is_stdout, jsonl_text
from tracekd_ext.options import nonnegative_int, probability
from tracekd_ext.splits import id_list_checksum
from tracekd_ext.trace_format import PERTURB_SEED, PERTURBABLE_STEPS, VARIANTS, render_prompt, render_target


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
    export.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="dataset loader option, repeatable (bAbI: tasks=paper|all|1,2,3, all_questions=true; "
                             "MS MARCO: keep_no_answer=true, support=selected|overlap; CoTemp: split_rule=paper|hash)")
    export.add_argument("--variant", default="correct", choices=VARIANTS)
    export.add_argument("--seed", type=nonnegative_int, default=PERTURB_SEED,
                        help="seed of the incorrect variant's perturbations")
    export.add_argument("--perturb", nargs="+", default=list(PERTURBABLE_STEPS), choices=PERTURBABLE_STEPS,
                        help="steps an incorrect trace gets wrong")
    export.add_argument("--perturb-probability", type=probability, default=1.0,
                        help="probability that each chosen step is perturbed")
    export.add_argument("--instruction", action="store_true", help="append the trace-format instruction to prompts")
    export.add_argument("--out", required=True, metavar="FILE.jsonl", help="output file ('-': standard output)")
    export.set_defaults(func=run_export)


def parse_options(pairs: list[str], allowed: tuple[str, ...], dataset: str) -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict; a key the dataset's loader does not take is a one-line error."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in allowed:
            known = ", ".join(allowed) or "none"
            raise TracekdError(f"--option {pair!r}: expected KEY=VALUE with KEY one of: {known} ({dataset})")
        options[key] = value
    return options


def run_export(args: argparse.Namespace) -> int:
    spec = get_spec(args.dataset)
    options = parse_options(args.option, spec.options, args.dataset)
    with Outputs() as outputs:
        outputs.claim(args.out)
        problems = spec.load(resolve_data_dir(args.data_dir), args.split, **options)
        rows = []
        for problem in problems:
            row = problem.to_dict()
            row["prompt"] = render_prompt(problem, spec, instruction=args.instruction)
            row["target"] = render_target(problem, spec, args.variant, seed=args.seed, perturb_steps=args.perturb,
                                          perturb_probability=args.perturb_probability)
            rows.append(row)
        outputs.write(args.out, jsonl_text(rows))
    print(f"wrote {len(rows)} {args.dataset} {args.split} records ({args.variant}) to "
          f"{'standard output' if is_stdout(args.out) else args.out}; id list sha256 "
          f"{id_list_checksum(p.id for p in problems)}", file=sys.stderr if is_stdout(args.out) else sys.stdout)
    return 0
