"""Dataset adapters: each turns one dataset's raw rows into Problem records and declares a DatasetSpec."""

from __future__ import annotations

import importlib

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.errors import TracekdError

_MODULES = {
    "cotemp": "tracekd_ext.adapters.cotemp",
    "babi": "tracekd_ext.adapters.babi",
    "marco": "tracekd_ext.adapters.marco",
}
DATASETS = tuple(_MODULES)


def get_spec(name: str) -> DatasetSpec:
    """The DatasetSpec of a dataset by its short name."""
    if name not in _MODULES:
        raise TracekdError(f"unknown dataset '{name}'; choose from {', '.join(_MODULES)}")
    return importlib.import_module(_MODULES[name]).SPEC
