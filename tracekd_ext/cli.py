"""The ``tracekd`` command line: ``tracekd COMMAND --help`` describes each command."""

from __future__ import annotations

import argparse
import importlib
import sys

from tracekd_ext.errors import TracekdError

# Each module defines add_parser(subparsers); the parser's ``func`` runs the command.
COMMAND_MODULES = (
    "tracekd_ext.commands.eval",
    "tracekd_ext.commands.rescore",
    "tracekd_ext.commands.data",
    "tracekd_ext.commands.train",
    "tracekd_ext.commands.report",
    "tracekd_ext.commands.demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracekd",
        description="Trace-aware QA evaluation (lm-eval tasks scoring classification, retrieval and answer "
                    "jointly) and trace fine-tuning.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv[:1] == ["eval"]:  # everything after "eval" belongs to lm_eval, options included
        args = argparse.Namespace(command="eval", lm_eval_args=argv[1:],
                                  func=importlib.import_module("tracekd_ext.commands.eval").run)
    else:
        args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TracekdError as err:
        print(f"tracekd {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tracekd {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
