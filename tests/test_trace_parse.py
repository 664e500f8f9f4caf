"""parse() on hand-written generations, and a property test that it never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tracekd_ext.text import literal_strings
from tracekd_ext.trace_parse import parse

CLS = "The temporal relation between the event in question and the event in context is: {}.\n"
IR = "I need to use the following facts to answer the question: {}"


def test_gold_format_parses_into_every_part():
    text = "<think>" + CLS.format("overlap") + IR.format("['A b.', 'C d.']") + "</think> <answer>['X']</answer>"
    parsed = parse(text)
    assert parsed.trace_format_ok
    assert parsed.cls_label == "overlap"
    assert literal_strings(parsed.ir_text) == ["A b.", "C d."]
    assert parsed.answer == "['X']"


def test_qwen3_style_thinking_block_with_newlines():
    text = "<think>\n" + CLS.format("during") + IR.format("['A.']") + "\n</think>\n\n<answer>['X']</answer>"
    parsed = parse(text)
    assert parsed.trace_format_ok and parsed.cls_label == "during" and parsed.answer == "['X']"


def test_free_thinking_followed_by_the_trace_block_picks_the_trace():
    text = ("<think>Let me think about who held office when.</think>\n\n<think>" + CLS.format("equal")
            + IR.format("['A.']") + "</think> <answer>['X']</answer>")
    assert parse(text).cls_label == "equal"


def test_opening_tag_in_the_prompt_only():
    parsed = parse(CLS.format("mix") + IR.format("['A.']") + "</think> <answer>['X']</answer>")
    assert parsed.think_closed and parsed.cls_label == "mix" and parsed.answer == "['X']"


def test_missing_close_tag_keeps_the_steps_but_fails_the_format():
    parsed = parse("<think>" + CLS.format("equal") + IR.format("['A.']") + " <answer>['X']</answer>")
    assert not parsed.trace_format_ok
    assert parsed.cls_label == "equal"


def test_nested_and_duplicated_tags():
    nested = parse("<think><think>" + CLS.format("equal") + IR.format("['A.']") + "</think></think>"
                   "<answer><answer>['X']</answer></answer>")
    assert nested.cls_label == "equal" and nested.answer == "['X']"
    twice = parse("<think>" + CLS.format("equal") + "</think><think>" + CLS.format("mix") + "</think>"
                  "<answer>['X']</answer><answer>['Y']</answer>")
    assert twice.cls_label == "mix" and twice.answer == "['X']"


def test_answer_without_tags_is_the_text_after_the_trace():
    parsed = parse("<think>" + CLS.format("equal") + "</think> Liberals")
    assert parsed.answer == "Liberals" and not parsed.has_answer_tag


def test_plain_answer_only_generation():
    parsed = parse("  Liberals \n")
    assert parsed.answer == "Liberals" and not parsed.has_think and parsed.cls_label is None


def test_truncated_empty_nonascii_and_huge_garbage():
    assert parse("<think>The temporal rel").cls_label is None
    empty = parse("")
    assert empty.answer == "" and not empty.trace_format_ok
    assert parse("<think>" + CLS.format("équal") + "</think><answer>['Łódź']</answer>").answer == "['Łódź']"
    garbage = parse("[[[[" * 25_000 + "<think>" * 1000 + "]" * 10)
    assert not garbage.trace_format_ok
    assert parse(None).answer == "" and parse(12).answer == "12"


def test_literal_strings_reads_escapes_and_rejects_non_lists():
    assert literal_strings("['it\\'s', \"x\"]") == ["it's", "x"]
    assert literal_strings("['a\\xa0b']") == ["a\xa0b"]
    assert literal_strings("[1, 2]") is None
    assert literal_strings("no list here") is None
    assert literal_strings("[" * 5000 + "]" * 5000) is None


TOKENS = list("<>/[]'\",.:\n thinkanswer\\é\x00") + ["<think>", "</think>", "<answer>", "</answer>",
                                                    "is: ", "the question: "]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_parse_never_raises_on_tag_soup(text):
    parsed = parse(text)
    assert isinstance(parsed.answer, str)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_never_raises_on_arbitrary_text(text):
    parse(text)
    literal_strings(text)


def test_answer_cut_at_the_stop_string_parses_like_the_closed_one():
    """Trace tasks stop at ``</answer>`` and lm-eval strips the stop string from the response."""
    closed = "<think>" + CLS.format("overlap") + IR.format("['A b.']") + "</think> <answer>['X']</answer>"
    cut = parse(closed.removesuffix("</answer>"))
    assert cut.trace_format_ok and cut.has_answer_tag
    assert (cut.cls_label, cut.ir_text, cut.answer) == (parse(closed).cls_label, parse(closed).ir_text, "['X']")
