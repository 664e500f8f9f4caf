"""Errors that the CLI reports as one line (no traceback), and the rule that reports them."""

from __future__ import annotations

import sys
from collections.abc import Callable


class TracekdError(Exception):
    """Base class: a user-facing error with a one-line message."""


class DataError(TracekdError):
    """Bad input data; the message names the file, line and field."""

    def __init__(self, message: str, *, path: object = None, line: int | None = None, field: str | None = None):
        where = ""
        if path is not None:
            where = str(path)
            if line is not None:
                where += f":{line}"
            where += ": "
        if field is not None:
            message = f"field '{field}': {message}"
        super().__init__(where + message)
        self.path, self.line, self.field = path, line, field


class OutputError(TracekdError):
    """An output file or folder that cannot be written; the message names it."""


USER_ERROR_EXIT = 2
INTERRUPTED_EXIT = 130


def report_errors(prog: str, command: Callable[[], int | None], interrupted: str = "interrupted") -> int:
    """Run ``command`` under the one error rule of every command line: a user-caused error (a ``TracekdError``:
    a file, an option or the data) is one line on standard error, ``PROG: error: MESSAGE``, exit status 2;
    Ctrl-C is one line, exit status 130; anything else is a bug and keeps its traceback."""
    try:
        return int(command() or 0)
    except TracekdError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return USER_ERROR_EXIT
    except KeyboardInterrupt:
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return INTERRUPTED_EXIT
