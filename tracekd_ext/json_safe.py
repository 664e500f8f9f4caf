"""Strict JSON: an undefined statistic (NaN) or an infinite one is written as null, never as the ``NaN`` /
``Infinity`` constants that JavaScript, jq, Go and Rust's serde refuse."""

from __future__ import annotations

import math
from typing import Any


def defined(value: float) -> float | None:
    """``value``, or ``None`` where it is NaN or infinite (lm-eval writes ``None`` as null)."""
    return value if math.isfinite(value) else None


def json_safe(obj: Any) -> Any:
    if isinstance(obj, float):
        return defined(obj)
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj
