"""Splitting a free-form generation into its reasoning and its final answer. Never raises; linear time.

The final-answer convention (:mod:`tracekd_ext.free_form.format`): a last line ``Answer: <answer>``
(``Final answer:``, Markdown emphasis such as ``**Answer:**`` and a value on the next line are read too), or a
LaTeX ``\\boxed{...}``; whichever of these comes last wins. Without either, the last ``the answer (to the question)
is ...`` or inline ``answer: ...`` phrase is read. The answer is looked for after the think block when there is a closed
one; a think block that never closes (a truncated generation) has no final answer.

Reasoning: the think block when there is one (the last closed one; an opening tag that a chat template put in
the prompt may be missing), else the text before the final answer (all of it when none was found).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter

from tracekd_ext.frozen_build import builder
from tracekd_ext.trace_format import THINK_CLOSE, THINK_OPEN

# "Answer: X" at the start of a line (after Markdown bullets or emphasis); the value may follow on the next line
_ANSWER_MARK = r"[ \t>*_#-]*(?:final[ \t]+)?answer[ \t*_]*[:：]"
_ANSWER_LINE = re.compile(rf"^{_ANSWER_MARK}[ \t*_]*(?P<value>[^\n]*)", re.IGNORECASE | re.MULTILINE)
# the same after a line break, found by a fast scan for its literal "\n" (``^`` has none)
_ANSWER_LINE_BREAK = re.compile(rf"\n{_ANSWER_MARK}[ \t*_]*(?P<value>[^\n]*)", re.IGNORECASE)
_ANSWER_PHRASE = re.compile(r"\b(?:final[ \t]+)?answer(?:[ \t]+to[ \t]+(?:the|this)[ \t]+question)?"
                            r"(?:[ \t]+is[ \t]*:?|[ \t]*:)[ \t]*(?P<value>[^\n]*)", re.IGNORECASE)
_BOXED = "\\boxed{"
_EMPHASIS = " \t*_`\"'"


@dataclass(frozen=True, slots=True)
class FreeParse:
    """``reasoning``: the text the steps are judged on; ``answer``: the final answer (``None``: no final answer
    by the convention); ``answer_source``: ``boxed``, ``line`` or ``phrase``; ``has_think``: a think block
    was found (``think_closed``: and it closes)."""

    raw: str
    reasoning: str
    answer: str | None
    answer_source: str | None
    has_think: bool
    think_closed: bool


_free_parse = builder(FreeParse)  # (raw, reasoning, answer, ...) without the keyword __init__'s cost


def _boxed(text: str) -> tuple[int, str] | None:
    """The last ``\\boxed{...}`` with balanced braces: (its start, its content)."""
    end, start = len(text), text.rfind(_BOXED)
    while start >= 0:
        # a box that does not close before the next box starts never closes (the later one stays open), so each
        # character is scanned twice at most (find, count): linear in the text however many boxes there are
        depth, pos = 1, start + len(_BOXED)
        while (close := text.find("}", pos, end)) >= 0:  # the braces opened before each closing one, in C
            depth += text.count("{", pos, close) - 1
            if not depth:
                return start, text[start + len(_BOXED):close]
            pos = close + 1
        end, start = start, text.rfind(_BOXED, 0, start)
    return None


def _line_value(text: str, match: re.Match[str]) -> str:
    """The value of an answer line, else of the next line unless that is empty or another answer marker
    ("Answer:" then "The answer is:" gives no answer)."""
    value = match.group("value").strip(_EMPHASIS)
    if value:
        return value
    end = text.find("\n", match.end() + 1)
    next_line = text[match.end():end if end >= 0 else len(text)].strip(_EMPHASIS + "\n")
    if next_line.endswith(":") or _ANSWER_LINE.match(next_line) or _ANSWER_PHRASE.match(next_line):
        return ""
    return next_line


def _answer_lines(text: str) -> Iterator[tuple[int, re.Match[str]]]:
    """(where it starts, the match) of each ``_ANSWER_LINE.finditer(text)`` match: they start at line starts and end
    within their lines, so they are its match at the text's start and the :data:`_ANSWER_LINE_BREAK` matches (the
    same value and end) one character after their line break."""
    first = _ANSWER_LINE.match(text)
    if first is not None:
        yield 0, first
    for line in _ANSWER_LINE_BREAK.finditer(text):
        yield line.start() + 1, line


def _last(matches) -> re.Match[str] | None:
    last = None
    for last in matches:  # noqa: B007 (the last match is wanted)
        pass
    return last


def _final_answer(text: str) -> tuple[int, str, str] | None:
    """(where the final answer's line starts, its value, its source) in ``text``, or ``None``."""
    found = []
    boxed = _boxed(text)
    if boxed is not None:
        found.append((boxed[0], boxed[1].strip(), "boxed"))
    lines = [(start, _line_value(text, m), "line") for start, m in _answer_lines(text)]
    lines = [line for line in lines if line[1]]  # an empty answer line gives no answer
    if lines:
        found.append(lines[-1])
    if found:
        return max(found, key=itemgetter(0))
    phrase = _last(m for m in _ANSWER_PHRASE.finditer(text) if m.group("value").strip(_EMPHASIS + ".:"))
    if phrase is None:
        return None
    return phrase.start(), phrase.group("value").strip(_EMPHASIS).rstrip("."), "phrase"


def _clean(value: str) -> str:
    value = value.strip(_EMPHASIS)
    if value.startswith("\\text{") and value.endswith("}"):
        value = value[6:-1]
    return value.rstrip(".").strip(_EMPHASIS)


def parse_free(generation: object) -> FreeParse:
    """Reasoning and final answer of ``generation`` (any value: ``None`` and non-strings are read as text)."""
    raw = generation if isinstance(generation, str) else ("" if generation is None else str(generation))
    close = raw.rfind(THINK_CLOSE)
    if close >= 0:
        open_at = raw.rfind(THINK_OPEN, 0, close)
        reasoning = raw[open_at + len(THINK_OPEN) if open_at >= 0 else 0:close]
        after = raw[close + len(THINK_CLOSE):]
        final = _final_answer(after)
        answer = None if final is None else _clean(final[1])
        return _free_parse(raw, reasoning.strip(), answer, final and final[2], True, True)
    open_at = raw.find(THINK_OPEN)
    if open_at >= 0:  # truncated inside its think block: reasoning only
        return _free_parse(raw, raw[open_at + len(THINK_OPEN):].strip(), None, None, True, False)
    final = _final_answer(raw)
    if final is None:
        return _free_parse(raw, raw.strip(), None, None, False, False)
    return _free_parse(raw, raw[:final[0]].strip(), _clean(final[1]), final[2], False, False)
