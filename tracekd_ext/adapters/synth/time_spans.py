"""Time expressions of CoTemp QA facts and the co-temporal relations between them (Su et al. 2024).

A time expression names a calendar period at a granularity: a year (``2003``), a month (``May, 2003``)
or a day (``March 3, 2001``). A fact holds ``in`` one period or ``from`` one period ``to`` a later one.
Every expression denotes the closed range of days it covers: ``in 2003`` is January 1 to December 31,
2003; ``from May, 2001 to 2004`` runs from May 1, 2001 to December 31, 2004.

Two spans that share at least one day are co-temporal, with the relation (CoTemp QA's scenarios):

- ``equal``: the same first and last day;
- ``during``: one lies within the other (and they are not equal);
- ``overlap``: they share days but neither lies within the other.

A question whose answers stand in more than one of these relations to the question's span is ``mix``.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from tracekd_ext.errors import TracekdError

CO_TEMPORAL = ("equal", "overlap", "during")
MIX = "mix"
GRANULARITIES = ("year", "month", "day")


@dataclass(frozen=True)
class Period:
    """A calendar year, month or day; ``month`` and ``day`` are ``None`` at coarser granularity."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise TracekdError(f"period {self.year}: a day needs a month")
        if self.month is not None and not 1 <= self.month <= 12:
            raise TracekdError(f"period {self.year}: month {self.month} outside 1..12")
        if self.day is not None:
            date(self.year, self.month, self.day)  # raises ValueError on an impossible day

    @classmethod
    def of(cls, day: date, granularity: str) -> Period:
        """The year, month or day that contains ``day``."""
        if granularity == "year":
            return cls(day.year)
        if granularity == "month":
            return cls(day.year, day.month)
        if granularity == "day":
            return cls(day.year, day.month, day.day)
        raise TracekdError(f"unknown granularity '{granularity}'; choose from {', '.join(GRANULARITIES)}")

    @property
    def granularity(self) -> str:
        return "year" if self.month is None else "month" if self.day is None else "day"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def last_day(self) -> date:
        if self.month is None:
            return date(self.year, 12, 31)
        if self.day is None:
            return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return date(self.year, self.month, self.day)

    def render(self) -> str:
        """``2003``, ``May, 2003`` or ``March 3, 2001`` (CoTemp QA's spelling)."""
        if self.month is None:
            return str(self.year)
        month = calendar.month_name[self.month]
        if self.day is None:
            return f"{month}, {self.year}"
        return f"{month} {self.day}, {self.year}"


@dataclass(frozen=True)
class TimeSpan:
    """``in START`` when ``end`` is ``None``, else ``from START to END`` (END strictly after START)."""

    start: Period
    end: Period | None = None

    def __post_init__(self) -> None:
        if self.end is not None and not self.start.last_day < self.end.first_day:
            raise TracekdError(f"time span {self.render()}: the end must come after the start")

    @property
    def first_day(self) -> date:
        return self.start.first_day

    @property
    def last_day(self) -> date:
        return (self.end or self.start).last_day

    def render(self) -> str:
        """``in May, 2003`` or ``from March 3, 2001 to June 5, 2004``."""
        if self.end is None:
            return f"in {self.start.render()}"
        return f"from {self.start.render()} to {self.end.render()}"


def relation(a: TimeSpan, b: TimeSpan) -> str | None:
    """The co-temporal relation of two spans (symmetric), or ``None`` when they share no day."""
    if a.last_day < b.first_day or b.last_day < a.first_day:
        return None
    if (a.first_day, a.last_day) == (b.first_day, b.last_day):
        return "equal"
    a_in_b = b.first_day <= a.first_day and a.last_day <= b.last_day
    b_in_a = a.first_day <= b.first_day and b.last_day <= a.last_day
    return "during" if a_in_b or b_in_a else "overlap"


def question_label(relations: Iterable[str]) -> str:
    """The label of a question from its answers' relations: the one relation, or ``mix`` for several."""
    distinct = set(relations)
    unknown = distinct - set(CO_TEMPORAL)
    if unknown or not distinct:
        raise TracekdError(f"expected co-temporal relations ({', '.join(CO_TEMPORAL)}), got {sorted(distinct)}")
    return distinct.pop() if len(distinct) == 1 else MIX
