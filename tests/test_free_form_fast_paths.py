"""The fast paths of free-form judging give what their definitions give: the answer-line search against the regex's
own ``finditer``, the boxed-answer brace scan against a character loop, a sentence's start against ``str.rfind`` of
every separator, the cue search against the cue regex, and the records built slot by slot against their keyword
constructors (a subclass's inherited slots included)."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from tracekd_ext.adapters import get_spec
from tracekd_ext.free_form import match, parse
from tracekd_ext.free_form.score import FreeScore, _free_score

_ANSWER_PIECES = ("answer", "Answer", "ANSWER", "an\u017fwer", "final ", "Final\t", ":", "\uff1a", " ", "\t", "\n",
                  "*", "_", "#", ">", "-", "x", "Bob Ray", "is", "the ")
_BOX_PIECES = ("\\boxed{", "{", "}", "x", " ", "\\text{")
_SENTENCE_PIECES = (".", "!", "?", " ", "\t", "\n", ";", "\r", "a", "b c", "\u00e9", "x" * 40, "y" * 300)
_CUE_PIECES = ("relation", "relationship", "relations", "event in question", "event in context", "event in ", " ",
               "s", "x", ".", "the relation is overlap")


def _text(pieces, max_size=16):
    return st.lists(st.sampled_from(pieces), max_size=max_size).map("".join)


@settings(max_examples=1500, deadline=None)
@given(_text(_ANSWER_PIECES))
def test_answer_lines_are_the_regex_matches(text):
    expected = [(m.start(), m.end(), m.group("value")) for m in parse._ANSWER_LINE.finditer(text)]
    assert [(start, m.end(), m.group("value")) for start, m in parse._answer_lines(text)] == expected


def defined_boxed(text):
    end, start = len(text), text.rfind("\\boxed{")
    while start >= 0:
        depth, i = 1, start + len("\\boxed{")
        while i < end and depth:
            depth += 1 if text[i] == "{" else -1 if text[i] == "}" else 0
            i += 1
        if depth == 0:
            return start, text[start + len("\\boxed{"):i - 1]
        end, start = start, text.rfind("\\boxed{", 0, start)
    return None


@settings(max_examples=1500, deadline=None)
@given(_text(_BOX_PIECES))
def test_boxed_answer_is_the_character_scan(text):
    assert parse._boxed(text) == defined_boxed(text)


def defined_sentence_start(text, at):
    start = max(text.rfind(separator, 0, at) for separator in (";", "\n", *(m + s for m in ".!?" for s in " \t\n")))
    return start + 1 if start >= 0 else 0


@settings(max_examples=1500, deadline=None)
@given(_text(_SENTENCE_PIECES, 24), st.floats(0, 1))
def test_sentence_start_is_the_last_separator_before_it(text, where):
    at = round(where * len(text))
    assert match._sentence_bounds(text, at)[0] == defined_sentence_start(text, at)


@settings(max_examples=1000, deadline=None)
@given(_text(_CUE_PIECES))
def test_cue_starts_are_the_cue_regex_matches(text):
    spec = get_spec("cotemp")
    mapping = spec.label_phrases
    _, _, cue, probes = match._label_patterns(tuple(zip(mapping, map(tuple, mapping.values()), strict=True)),
                                              tuple(spec.label_cue))
    assert probes == ("relation", "event in question", "event in context")
    assert match._cue_starts(cue, probes, text) == [m.start() for m in cue.finditer(text)]


def test_a_built_subclass_record_equals_the_keyword_one():
    record = FreeScore(parse_ok=True, evaluated=True, cls_correct=None, ret_correct=False, ret_precision=0.5,
                       ret_recall=1.0, ret_f1=0.6, trace_correct=False, answer_correct=True, answer_f1=1.0,
                       grounded=None, pred_label="x", cited=(1, 2), uncited_items=0, answer_items=("b",),
                       hallucinated=True)
    built = _free_score(*dataclasses.astuple(record))
    assert type(built) is FreeScore and built == record and hash(built) == hash(record)
    assert dataclasses.asdict(built) == dataclasses.asdict(record)
