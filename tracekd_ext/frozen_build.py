"""Building frozen dataclass records fast: the scorers make several per generation.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (about four times the cost of
setting a slot directly); :func:`builder` sets the slots directly and gives the same, still frozen, object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import TypeVar

T = TypeVar("T")


def builder(cls: type[T]) -> Callable[..., T]:
    """A function making ``cls`` from all its field values, positionally in declaration order.

    ``cls`` must be a frozen dataclass with ``slots=True``, no ``__post_init__`` and no field defaults that the
    caller relies on: the values are set as given, nothing else runs.
    """
    if not hasattr(cls, "__slots__") or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: builder() needs a slotted dataclass without __post_init__")
    setters = tuple(getattr(cls, f.name).__set__ for f in fields(cls))  # a base class's slots too
    new = object.__new__

    def build(*values):
        if len(values) != len(setters):
            raise TypeError(f"{cls.__name__} takes {len(setters)} field values, got {len(values)}")
        record = new(cls)
        for set_field, value in zip(setters, values):  # noqa: B905 - lengths checked above
            set_field(record, value)
        return record

    build.__name__ = build.__qualname__ = f"build_{cls.__name__}"
    return build
