"""The common problem record: what every dataset adapter produces and every other part reads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tracekd_ext.errors import DataError
from tracekd_ext.files.read import parse_json

RECORD_FIELDS = ("id", "dataset", "label", "units", "question", "support", "answers", "meta")


@dataclass(frozen=True)
class Problem:
    """One open-book QA problem decomposed into a classification and a retrieval step.

    ``support`` holds sorted indices into ``units`` (the gold retrieval step); ``label`` is the gold
    classification label; ``answers`` the gold answers; ``meta`` dataset-specific extras.
    """

    id: str
    dataset: str
    units: tuple[str, ...]
    question: str
    label: str
    support: tuple[int, ...]
    answers: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        bad = [i for i in self.support if not 0 <= i < len(self.units)]
        if bad:
            raise DataError(f"problem {self.id}: support index {bad[0]} outside 0..{len(self.units) - 1}",
                            field="support")

    @property
    def support_units(self) -> list[str]:
        return [self.units[i] for i in self.support]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict with the record fields in their declared order."""
        return {
            "id": self.id,
            "dataset": self.dataset,
            "label": self.label,
            "units": list(self.units),
            "question": self.question,
            "support": list(self.support),
            "answers": list(self.answers),
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, row: dict[str, Any], *, path: object = None, line: int | None = None,
                  prefix: str = "") -> Problem:
        """Build a record from :meth:`to_dict` output (``meta`` may also be a JSON string, as in task docs).

        Nothing is coerced: a field of the wrong type is a DataError naming ``prefix + field`` (``doc.`` for
        the doc of a samples row), so ``null`` never becomes the answer "None" and ``1.7`` never index 1."""
        def error(message: str, name: str) -> DataError:
            return DataError(message, path=path, line=line, field=prefix + name)

        for name in RECORD_FIELDS[:-1]:
            if name not in row:
                raise error("missing", name)
        for name in ("id", "dataset", "question", "label"):
            if not isinstance(row[name], str):
                raise error(f"expected a string, got {type_name(row[name])}", name)
        for name, kind in (("units", str), ("support", int), ("answers", str)):
            value = row[name]
            if not isinstance(value, (list, tuple)):
                raise error(f"expected a list, got {type_name(value)}", name)
            bad = next((v for v in value if not isinstance(v, kind) or isinstance(v, bool)), _NONE)
            if bad is not _NONE:
                wanted = "strings" if kind is str else "integers"
                shown = "" if bad is None or isinstance(bad, bool) else f" {json.dumps(bad)[:40]}"
                raise error(f"expected a list of {wanted}, got {type_name(bad)}{shown}", name)
        outside = [i for i in row["support"] if not 0 <= i < len(row["units"])]
        if outside:
            raise error(f"index {outside[0]} outside the units 0..{len(row['units']) - 1}", "support")
        return cls(id=row["id"], dataset=row["dataset"], units=tuple(row["units"]), question=row["question"],
                   label=row["label"], support=tuple(sorted(row["support"])), answers=tuple(row["answers"]),
                   meta=_meta(row.get("meta"), error))


_NONE = object()  # "no bad element found" (None itself is a bad element)
# meta keys the scoring reads, with the type it needs
META_TYPES = {"triple_element": str}


def type_name(value: object) -> str:
    """The JSON kind of a value as error messages name it ("null", "a string", "an integer", ...)."""
    return "null" if value is None else {"str": "a string", "int": "an integer", "float": "a number",
                                          "bool": "a boolean", "list": "a list", "dict": "an object"}.get(
        type(value).__name__, type(value).__name__)


def _meta(value: object, error) -> dict[str, Any]:
    """``meta``: an object, or a JSON string of one (as in task docs); absent or null is empty."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = parse_json(value)
        except DataError as err:
            raise error(f"not a JSON object: {err}", "meta") from None
    if not isinstance(value, dict):
        raise error(f"expected an object (or a JSON string of one), got {type_name(value)}", "meta")
    for key, kind in META_TYPES.items():
        if key in value and not isinstance(value[key], kind):
            raise error(f"expected a string, got {type_name(value[key])}", f"meta.{key}")
    return value
