"""Command line of the training module: ``tracekd train ...``, ``python -m tracekd_train ...`` and
``accelerate launch -m tracekd_train ...`` all end here."""

from __future__ import annotations

import sys

from tracekd_ext.errors import report_errors
from tracekd_train.config import parse_config


def main(argv: list[str] | None = None, prog: str = "tracekd train") -> int:
    """Parse the options (the ``--config`` YAML file, then flags) and run, under the CLI's error rule."""
    argv = list(sys.argv[1:] if argv is None else argv)

    def command() -> None:
        config = parse_config(argv, prog)
        from tracekd_train.trainer import run

        run(config)

    return report_errors(prog, command, interrupted="interrupted (continue with --resume)")
