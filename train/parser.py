"""``trl.TrlParser`` that names the file and key of a bad ``--config`` value.

TrlParser hands the YAML mapping to ``set_defaults_with_config``, which sets the options' defaults without
looking at them; here each key is checked against its dataclass field first, so that a misspelt key, ``use_peft:
1`` or ``lr_scheduler_type: sometimes`` is one line naming the file and key instead of a crash in training.
Imports TRL: ``tracekd_train.config`` imports it only when it builds a parser.
"""

from __future__ import annotations

import types
import typing
from dataclasses import fields
from enum import Enum
from typing import Any, Literal

from trl import TrlParser

from tracekd_ext.errors import DataError


def declared_type(hint: Any) -> tuple[Any, bool]:
    """The type a field's option takes and whether it takes ``None``, as transformers' HfArgumentParser reads a
    union: ``X | None`` is X, ``X | str`` is X; any dict makes it a mapping option (JSON text or a mapping)."""
    if typing.get_origin(hint) not in (typing.Union, types.UnionType):
        return hint, False
    args = typing.get_args(hint)
    rest = [a for a in args if a is not type(None)]
    if any(a is dict or typing.get_origin(a) is dict for a in rest):
        return dict, type(None) in args
    if len(rest) > 1:
        rest = [a for a in rest if a is not str] or [str]
    return (rest[0] if len(rest) == 1 else Any), type(None) in args


def _choices(kind: Any, metadata: typing.Mapping) -> list | None:
    if "choices" in metadata:
        return list(metadata["choices"])
    if typing.get_origin(kind) is Literal:
        return list(typing.get_args(kind))
    if isinstance(kind, type) and issubclass(kind, Enum):
        return [member.value for member in kind]
    return None


def check_value(hint: Any, metadata: typing.Mapping, value: Any, path: object, key: str) -> Any:
    """A YAML value checked against its field: booleans must be booleans, mappings go to mapping options,
    choices are enforced, and numbers given as strings (``2e-4`` without a dot is a string in YAML 1.1) are
    converted."""
    kind, optional = declared_type(hint)
    if value is None:
        if optional:
            return None
        raise DataError("expected a value, got null (leave the key out for the default)", path=path, field=key)
    if kind is dict or kind is Any:
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise DataError("expected true or false", path=path, field=key)
        return value
    listed = typing.get_origin(kind) is list
    item_kind = typing.get_args(kind)[0] if listed else kind
    if not listed and isinstance(value, (list, dict)) and item_kind in (int, float, str):
        raise DataError(f"expected a single value, got {type(value).__name__}", path=path, field=key)
    choices = _choices(item_kind, metadata)
    checked = []
    for item in value if listed and isinstance(value, list) else [value]:
        if isinstance(item, str) and item_kind in (int, float):
            try:
                item = item_kind(item)
            except ValueError:
                raise DataError(f"expected a number, got {item!r}", path=path, field=key) from None
        if item_kind is str and not isinstance(item, str):
            raise DataError(f"expected a string, got {type(item).__name__} {item!r} (quote it in YAML if it is meant "
                            "as text)", path=path, field=key)
        if choices is not None and item not in choices and str(item) not in map(str, choices):
            raise DataError(f"{item!r} is not one of {', '.join(map(str, choices))}", path=path, field=key)
        checked.append(item)
    return checked if listed and isinstance(value, list) else checked[0]


class TrainParser(TrlParser):
    """TrlParser whose ``--config`` values are checked by field (``config_path``: the file, for the messages)."""

    config_path: str | None = None

    def set_defaults_with_config(self, **values: Any) -> list[str]:
        declared = {}
        for dtype in self.dataclass_types:
            hints = typing.get_type_hints(dtype)
            declared.update({f.name: (hints[f.name], f.metadata) for f in fields(dtype) if f.init})
        checked = {}
        for key, value in values.items():
            name = key.replace("-", "_")
            if name not in declared:
                raise DataError(f"unknown option '{key}' (see tracekd train --help)", path=self.config_path)
            checked[name] = check_value(*declared[name], value, self.config_path, key)
        return super().set_defaults_with_config(**checked)
