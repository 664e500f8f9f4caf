"""The dataset registry: each dataset's adapter module (raw rows -> Problem records, plus its DatasetSpec) by
short name, and datasets registered at run time (``register``), whose trace sentences the parser then reads."""

from __future__ import annotations

import importlib
from functools import lru_cache

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.errors import TracekdError

_MODULES = {
    "cotemp": "tracekd_ext.adapters.cotemp",
    "babi": "tracekd_ext.adapters.babi",
    "marco": "tracekd_ext.adapters.marco",
    "synth": "tracekd_ext.adapters.synth",
}
DATASETS = tuple(_MODULES)
_REGISTERED: dict[str, DatasetSpec] = {}


def get_spec(name: str) -> DatasetSpec:
    """The DatasetSpec of a dataset by its short name."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in _MODULES:
        raise TracekdError(f"unknown dataset '{name}'; choose from {', '.join(dataset_names())}")
    return importlib.import_module(_MODULES[name]).SPEC


def register(spec: DatasetSpec) -> None:
    """Make ``spec`` known by its name (``get_spec``, and the trace sentences every parse reads)."""
    if spec.name in _MODULES or spec.name in _REGISTERED:
        raise TracekdError(f"dataset '{spec.name}' is already registered")
    _REGISTERED[spec.name] = spec
    all_specs.cache_clear()


def unregister(name: str) -> None:
    """Forget a dataset added with ``register``."""
    if _REGISTERED.pop(name, None) is None:
        raise TracekdError(f"dataset '{name}' was not added with register()")
    all_specs.cache_clear()


def dataset_names() -> tuple[str, ...]:
    """Every known dataset's short name, built in and registered."""
    return (*_MODULES, *_REGISTERED)


@lru_cache(maxsize=1)
def all_specs() -> tuple[DatasetSpec, ...]:
    """The spec of every known dataset, built in and registered (cached until the registry changes)."""
    return tuple(get_spec(name) for name in dataset_names())
