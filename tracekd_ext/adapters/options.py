"""Reading loader options that arrive as JSON values or strings (lm-eval ``--metadata``, ``--option K=V``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tracekd_ext.errors import TracekdError

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def as_bool(name: str, value: Any) -> bool:
    """``True``/``False`` from a bool, a number or a word such as ``yes``/``false``."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise TracekdError(f"option '{name}': expected true or false, got {value!r}")


def as_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` as one of ``choices`` (case-insensitive), else a one-line error listing them."""
    choices = tuple(choices)
    text = str(value).strip().lower()
    if text not in choices:
        raise TracekdError(f"option '{name}': expected one of {', '.join(choices)}, got {value!r}")
    return text
