"""The common problem record: what every dataset adapter produces and every other part reads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tracekd_ext.errors import DataError

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
    def from_dict(cls, row: dict[str, Any], *, path: object = None, line: int | None = None) -> Problem:
        """Build a record from :meth:`to_dict` output (``meta`` may also be a JSON string, as in task docs)."""
        for name in RECORD_FIELDS[:-1]:
            if name not in row:
                raise DataError("missing", path=path, line=line, field=name)
        meta = row.get("meta") or {}
        if isinstance(meta, str):
            meta = json.loads(meta)
        units, support, answers = row["units"], row["support"], row["answers"]
        for name, value in (("units", units), ("support", support), ("answers", answers)):
            if not isinstance(value, (list, tuple)):
                raise DataError(f"expected a list, got {type(value).__name__}", path=path, line=line, field=name)
        try:
            return cls(
                id=str(row["id"]),
                dataset=str(row["dataset"]),
                units=tuple(str(u) for u in units),
                question=str(row["question"]),
                label=str(row["label"]),
                support=tuple(sorted(int(i) for i in support)),
                answers=tuple(str(a) for a in answers),
                meta=dict(meta),
            )
        except DataError as err:
            raise DataError(str(err), path=path, line=line) from None
