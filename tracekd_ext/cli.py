"""The ``tracekd`` command line: ``tracekd COMMAND --help`` describes each command.

One error rule for every command (``tracekd_ext.errors.report_errors``): a user-caused error (a file, an option
or the data; a ``TracekdError``, raised where the user's file is read or written) is one line on standard error
naming the file, line or field, with exit status 2; anything else is a bug and keeps its traceback. A closed
standard output (``tracekd rescore ... | head -1``) ends the command quietly, as other command-line tools do.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from tracekd_ext.errors import report_errors

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

    def command() -> int:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code

    try:
        return report_errors(f"tracekd {args.command}", command)
    except BrokenPipeError:
        _silence_stdout()
        return 1


def _silence_stdout() -> None:
    """After a closed pipe: point standard output at /dev/null so the exit-time flush does not fail again
    (the recipe of Python's ``signal`` documentation, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
