"""builder() makes the same frozen records as the keyword __init__ (the scorer's three record types)."""

from __future__ import annotations

import dataclasses

import pytest

from tracekd_ext.answer_rules import AnswerScore
from tracekd_ext.frozen_build import builder
from tracekd_ext.scoring import SampleScore
from tracekd_ext.trace_parse import ParsedTrace, parse


@pytest.mark.parametrize("record", [
    AnswerScore(True, 0.5, ("a",)),
    parse("<think>The category of the question asked is: 1.</think> <answer>x</answer>"),
    SampleScore(parse_ok=True, evaluated=True, cls_correct=False, ret_correct=None, ret_precision=0.5, ret_recall=1.0,
                ret_f1=0.6, trace_correct=False, answer_correct=True, answer_f1=1.0, grounded=None, pred_label="x",
                cited=(1, 2), uncited_items=3, answer_items=("b",)),
])
def test_built_record_equals_the_keyword_one_and_stays_frozen(record):
    cls = type(record)
    built = builder(cls)(*dataclasses.astuple(record))
    assert type(built) is cls and built == record and hash(built) == hash(record)
    assert dataclasses.asdict(built) == dataclasses.asdict(record)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.__setattr__(dataclasses.fields(cls)[0].name, None)


def test_every_field_must_be_given():
    with pytest.raises(TypeError, match="ParsedTrace takes 9 field values, got 2"):
        builder(ParsedTrace)("raw", True)


def test_records_with_a_post_init_are_refused():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        x: int

        def __post_init__(self):
            pass

    with pytest.raises(TypeError, match="without __post_init__"):
        builder(Checked)
