"""Running the ``tracekd`` command line in-process and reading its one-line errors (shared by the CLI tests)."""

from __future__ import annotations

from tracekd_ext.cli import main


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """Exit code, standard output and standard error of ``tracekd ARGS...``."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    """The error line of a user-caused failure: exactly one line and no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]
