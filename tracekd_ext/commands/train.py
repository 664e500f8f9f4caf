"""``tracekd train``: fine-tune on trace SFT data. The training module (``train/``, extra ``tracekd[train]``)
is imported only when the command runs, so the rest of the CLI works without TRL."""

from __future__ import annotations

import argparse

HELP = "fine-tune a model on trace SFT data with TRL (LoRA, QLoRA, full; needs tracekd[train])"


def add_parser(subparsers) -> None:
    # prefix_chars "+": this subparser treats no argument as its own option and hands all of them on
    parser = subparsers.add_parser("train", help=HELP, add_help=False, description=HELP, prefix_chars="+")
    parser.add_argument("train_args", nargs=argparse.REMAINDER, help="options of tracekd train (see --help)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tracekd_train.cli import main

    return main(list(args.train_args) or ["--help"])
