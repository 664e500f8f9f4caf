"""Co-temporal relations of time spans on hand-written cases, at year, month and day granularity."""

from __future__ import annotations

from datetime import date

import pytest

from tracekd_ext.adapters.synth.time_spans import Period, TimeSpan, question_label, relation
from tracekd_ext.errors import TracekdError


def span(start: tuple[int, ...], end: tuple[int, ...] | None = None) -> TimeSpan:
    return TimeSpan(Period(*start), Period(*end) if end else None)


@pytest.mark.parametrize(("a", "b", "expected"), [
    # equal: the same first and last day
    (span((2001,), (2004,)), span((2001,), (2004,)), "equal"),
    (span((2003,)), span((2003,)), "equal"),
    (span((2001, 3, 11)), span((2001, 3, 11)), "equal"),
    (span((2003, 1), (2003, 12)), span((2003,)), "equal"),                 # January..December 2003 is the year
    # during: one within the other
    (span((2003, 5)), span((2001,), (2005,)), "during"),                   # a month inside a range of years
    (span((2001, 3, 3)), span((2001, 3)), "during"),                        # a day inside its month
    (span((2003, 5)), span((2003,)), "during"),                             # a month inside its year
    (span((2001,), (2010,)), span((2003, 2, 1), (2004, 6, 30)), "during"),
    (span((2001,), (2004,)), span((2001,), (2002,)), "during"),            # shared start
    (span((2001,), (2004,)), span((2003, 6), (2004, 12)), "during"),       # shared last day
    # overlap: shared days, neither within the other
    (span((2001,), (2004,)), span((2003,), (2006,)), "overlap"),
    (span((1956,), (1968,)), span((1968,), (1970,)), "overlap"),           # they share the year 1968
    (span((2003,)), span((2002, 12), (2003, 2)), "overlap"),               # a year against a range across it
    (span((2001, 3, 3), (2004, 6, 5)), span((2004, 6, 5), (2009, 1, 1)), "overlap"),  # one shared day
    # disjoint
    (span((1990,), (1995,)), span((1996,)), None),
    (span((2003, 5)), span((2003, 6)), None),
    (span((2001, 3, 1), (2001, 3, 3)), span((2001, 3, 4)), None),
    (span((2001, 3, 1), (2001, 3, 31)), span((2001, 4), (2002,)), None),
])
def test_relation(a, b, expected):
    assert relation(a, b) == expected
    assert relation(b, a) == expected


def test_periods_cover_their_whole_granularity():
    assert (Period(2003).first_day, Period(2003).last_day) == (date(2003, 1, 1), date(2003, 12, 31))
    assert Period(2004, 2).last_day == date(2004, 2, 29) and Period(2003, 2).last_day == date(2003, 2, 28)
    assert Period(2001, 3, 3).first_day == Period(2001, 3, 3).last_day == date(2001, 3, 3)
    assert [Period(2003).granularity, Period(2003, 5).granularity, Period(2003, 5, 1).granularity] == \
        ["year", "month", "day"]
    assert Period.of(date(2003, 5, 17), "month") == Period(2003, 5)
    assert span((2001,), (2004, 6)).first_day == date(2001, 1, 1) and span((2001,), (2004, 6)).last_day == \
        date(2004, 6, 30)


def test_rendering_follows_cotemp():
    assert span((2001, 3, 3), (2004, 6, 5)).render() == "from March 3, 2001 to June 5, 2004"
    assert span((2003, 5)).render() == "in May, 2003"
    assert span((2003,)).render() == "in 2003"
    assert span((1974,), (1977, 10, 17)).render() == "from 1974 to October 17, 1977"


@pytest.mark.parametrize("bad", [
    lambda: span((2004,), (2001,)),          # end before start
    lambda: span((2003,), (2003, 5)),        # end inside the start period
    lambda: Period(2003, 13),
    lambda: Period(2003, None, 4),
    lambda: Period.of(date(2003, 1, 1), "week"),
])
def test_invalid_spans_are_errors(bad):
    with pytest.raises((TracekdError, ValueError)):
        bad()


def test_question_label():
    assert question_label(["during", "during"]) == "during"
    assert question_label(["equal"]) == "equal"
    assert question_label(["equal", "overlap"]) == "mix"
    assert question_label(["overlap", "during", "equal"]) == "mix"
    with pytest.raises(TracekdError):
        question_label([])
    with pytest.raises(TracekdError):
        question_label(["before"])
