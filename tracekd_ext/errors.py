"""Errors that the CLI reports as one line (no traceback)."""

from __future__ import annotations


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
