"""Reading option values, shared by every command, the dataset loaders and lm-eval ``--metadata``: the one
bool reader (:func:`as_bool`), choices (:func:`as_choice`) and range checks of numbers.

Each range checker takes a value as the command line, a YAML file or lm-eval ``--metadata`` gives it (a string or a
number), returns it converted, and raises ``argparse.ArgumentTypeError`` when it is out of range or not a finite
number, so it serves directly as an argparse ``type=``. :func:`check` applies one to a named option outside
argparse (configs, metadata) and turns the failure into a one-line :class:`TracekdError`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable
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


def _ranged(value: Any, integer: bool, ok: Callable[[float], bool], rule: str) -> Any:
    """``value`` as an int (``integer``) or a finite float satisfying ``ok``; bools, NaN, infinities and
    non-numbers are refused with ``expected <rule>``."""
    refused = argparse.ArgumentTypeError(f"expected {rule}, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise refused
    try:
        number = float(value) if isinstance(value, float) or not integer else int(str(value).strip())
    except ValueError:
        raise refused from None
    if not math.isfinite(number) or (integer and not float(number).is_integer()) or not ok(number):
        raise refused
    return int(number) if integer else number


def probability(value: Any) -> float:
    """A probability: a finite number in [0, 1]."""
    return float(_ranged(value, False, lambda x: 0.0 <= x <= 1.0, "a probability in [0, 1]"))


def fraction(value: Any) -> float:
    """A share below one: a finite number in [0, 1) (warm-up ratio, dropout)."""
    return float(_ranged(value, False, lambda x: 0.0 <= x < 1.0, "a number in [0, 1)"))


def positive_float(value: Any) -> float:
    return float(_ranged(value, False, lambda x: x > 0, "a finite number above 0"))


def nonnegative_float(value: Any) -> float:
    return float(_ranged(value, False, lambda x: x >= 0, "a finite number of at least 0"))


def positive_int(value: Any) -> int:
    return int(_ranged(value, True, lambda x: x >= 1, "an integer of at least 1"))


def nonnegative_int(value: Any) -> int:
    return int(_ranged(value, True, lambda x: x >= 0, "an integer of at least 0"))


def steps_limit(value: Any) -> int:
    """An optimizer-step limit: -1 (no limit: train by epochs) or at least 1."""
    return int(_ranged(value, True, lambda x: x == -1 or x >= 1, "-1 (train by epochs) or an integer of at least 1"))


def check(name: str, value: Any, checker: Callable[[Any], Any]) -> Any:
    """``checker(value)``; a failure is a one-line error naming the option ``name``."""
    try:
        return checker(value)
    except argparse.ArgumentTypeError as err:
        raise TracekdError(f"{name}: {err}") from None
