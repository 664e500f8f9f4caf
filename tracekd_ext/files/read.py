"""Reading the user's text and JSON-lines files with errors that name the file and line.

Text enters tracekd here: a file that cannot be read, or is not UTF-8 (a binary file), is a ``DataError``
naming the file and line, and a lone surrogate that a JSON escape produced (``"\\ud800"``, which no UTF-8
file can carry) becomes U+FFFD, so that it is scored, shown and written as a replacement character.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracekd_ext.errors import DataError

_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"


def replace_lone_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys included) replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub(REPLACEMENT_CHARACTER, value)
    if isinstance(value, list):
        return [replace_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {replace_lone_surrogates(k): replace_lone_surrogates(v) for k, v in value.items()}
    return value


def _decode(raw: bytes, path: Path, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"not UTF-8 text (byte 0x{raw[err.start]:02x} at column {err.start + 1}); "
                        "expected a UTF-8 text file", path=path, line=line) from None


def _open_input(path: Path):
    if not path.is_file():
        raise DataError("no such file" if not path.exists() else "not a file", path=path)
    try:
        return path.open("rb")
    except OSError as err:
        raise DataError(f"cannot read ({err.strerror or err})", path=path) from None


def read_text(path: str | os.PathLike) -> str:
    """The whole of a UTF-8 text file; an unreadable or non-UTF-8 file is a DataError naming the line."""
    path = Path(path)
    with _open_input(path) as handle:
        return "".join(_decode(raw, path, number) for number, raw in enumerate(handle, 1))


def parse_json(text: str | bytes, *, path: object = None, line: int | None = None, field: str | None = None) -> Any:
    """``json.loads`` whose every failure is a DataError naming the place: malformed text, nesting deeper
    than Python's stack (RecursionError) and integers longer than Python converts (ValueError) alike."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        reason = f"malformed JSON ({err.msg} at column {err.colno})"
    except RecursionError:
        reason = "JSON nested too deeply"
    except ValueError as err:  # an integer of more digits than sys.get_int_max_str_digits()
        reason = f"unreadable JSON ({str(err).split(';')[0]})"
    raise DataError(reason, path=path, line=line, field=field)


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line; a malformed line is a DataError."""
    path = Path(path)
    with _open_input(path) as handle:
        for number, raw in enumerate(handle, 1):
            line = _decode(raw, path, number)
            if not line.strip():
                continue
            row = parse_json(line, path=path, line=number)
            if not isinstance(row, dict):
                raise DataError(f"expected a JSON object, got {type(row).__name__}", path=path, line=number)
            if _ESCAPED_SURROGATE.search(raw):
                row = replace_lone_surrogates(row)
            yield number, row
