"""Generations from elsewhere under strict scoring: decoding residue is not part of the answer, and bAbI
rows without a task name it through their label."""

from __future__ import annotations

import pytest

from tracekd_ext.adapters import babi, get_spec
from tracekd_ext.errors import DataError
from tracekd_ext.scoring import score
from tracekd_ext.trace_parse import parse

BABI = get_spec("babi")
STORY = "1 Mary went to the garden.\n2 Where is Mary?\tgarden\t1\n"
PROBLEM = babi.problems_from_text(STORY, 1, "test")[0]


def strict(generation: str, kind: str):
    return score(PROBLEM, parse(generation), BABI, "strict", kind)


@pytest.mark.parametrize("header", ["assistant\n\n", "assistant\n", "Assistant:", "Assistant: ", "ASSISTANT\n",
                                    "<|assistant|>", "<|assistant|>\n", "<|im_start|>assistant\n",
                                    "\n<|im_start|>assistant\n\n"])
@pytest.mark.parametrize("kind", ["direct", "trace"])
def test_a_leading_chat_role_header_is_dropped(header, kind):
    assert strict(f"{header}garden", kind).answer_correct


def test_assistant_inside_the_answer_is_kept():
    assert strict("assistant garden", "direct").answer_correct is False  # not a header line
    assert parse("assistant professor").answer == "assistant professor"
    assert parse("assistant\n\ngreen").raw == "assistant\n\ngreen"  # the raw generation is kept


@pytest.mark.parametrize("generation", ["<think></think>garden", "<think>\n\n</think>\n\ngarden", "<think>garden",
                                        "<think>\ngarden\n", "assistant\n<think>garden",
                                        "<think><answer>garden</answer>"])
def test_direct_tasks_ignore_an_empty_or_never_closed_think(generation):
    result = strict(generation, "direct")
    assert result.answer_correct and result.parse_ok


def test_a_never_closed_think_is_still_a_truncated_trace_for_trace_tasks():
    result = strict("<think>garden", "trace")
    assert not result.answer_correct and not result.parse_ok


def test_babi_rows_without_task_infer_it_from_the_label():
    row = {"story": STORY, "label": "single-supporting-fact", "prediction": "garden"}
    assert babi.problem_from_raw(row) == babi.problem_from_raw({**row, "task": 1})
    with pytest.raises(DataError, match="field 'task'"):
        babi.problem_from_raw({"story": STORY})
    with pytest.raises(DataError, match="field 'label'"):
        babi.problem_from_raw({"story": STORY, "label": "no-such-task"})
