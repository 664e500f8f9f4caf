"""Command line of the training module: ``tracekd train ...``, ``python -m tracekd_train ...`` and
``accelerate launch -m tracekd_train ...`` all end here."""

from __future__ import annotations

import sys

from tracekd_ext.errors import TracekdError
from tracekd_train.config import parse_config


def main(argv: list[str] | None = None, prog: str = "tracekd train") -> int:
    """Parse the options (``--config`` YAML files, then flags) and run; errors are one line, exit 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        config = parse_config(argv, prog)
        from tracekd_train.trainer import run

        run(config)
    except TracekdError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted (continue with --resume)", file=sys.stderr)
        return 130
    return 0
