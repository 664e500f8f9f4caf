"""The optional training dependencies, imported only when a run needs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from tracekd_ext.errors import TracekdError

TRAIN_EXTRA = 'pip install "tracekd[train]"'
GPU_EXTRA = 'pip install "tracekd[gpu]"'


def require(*names: str, hint: str = TRAIN_EXTRA) -> list[ModuleType]:
    """Import ``names``; a missing one is a one-line error that says what to install."""
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ImportError as err:
            raise TracekdError(f"training needs the '{name}' package ({err.msg}); install it with: {hint}") from None
    return modules


def require_training_stack() -> None:
    """TRL, PEFT and accelerate, the packages of the ``train`` extra."""
    require("trl", "peft", "accelerate")
