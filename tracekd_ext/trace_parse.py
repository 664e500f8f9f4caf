"""Parsing a generation into its trace steps and answer. Never raises: a missing part is empty."""

from __future__ import annotations

import re
from dataclasses import dataclass

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"
_TAGS = re.compile(r"</?(?:think|answer)>")
_CLS_MARKER = re.compile(
    r"(?:temporal relation between the event in question and the event in context|category of the question asked)"
    r"\s+is\s*:\s*(?P<label>[^\n.]*)",
    re.IGNORECASE,
)
_IR_MARKER = re.compile(r"I need to use the following \w+ to answer the question\s*:", re.IGNORECASE)
# A chat-role header line left at the start by decoding with special tokens skipped: decoding residue.
_ROLE_HEADER = re.compile(r"\s*(?:<\|im_start\|>[ \t]*assistant[ \t]*\n?|<\|assistant\|>[ \t]*\n?"
                          r"|assistant[ \t]*(?::[ \t]*\n?|\n|\Z))", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedTrace:
    """A generation split into its parts.

    ``think`` is the chosen think block (the last one holding a CLS or IR sentence, else the first);
    ``cls_label`` the label its CLS sentence names; ``ir_text`` what follows the IR sentence's intro
    (``None`` without one); ``answer`` the text inside ``<answer>`` or, without the tag, after the trace;
    ``direct_answer`` the answer of an answer-only task, for which a never-closed ``<think>`` is no
    trace but a wrapper to ignore. A leading chat-role header line (``assistant``, ``<|assistant|>``,
    ``<|im_start|>assistant``, ``Assistant:``) is decoding residue and not read; ``raw`` keeps it.
    """

    raw: str
    has_think: bool
    think_closed: bool
    think: str
    cls_label: str | None
    ir_text: str | None
    answer: str
    has_answer_tag: bool
    direct_answer: str

    @property
    def trace_format_ok(self) -> bool:
        """Closed think block with both steps, and a tagged answer."""
        return self.think_closed and self.cls_label is not None and self.ir_text is not None and self.has_answer_tag


def _think_blocks(text: str) -> tuple[list[tuple[int, int]], int]:
    """Spans of closed think blocks and where the last one ends. An opening tag may be missing
    (chat templates that put ``<think>`` in the prompt); nested openings keep the innermost."""
    spans, pos = [], 0
    while True:
        end = text.find(THINK_CLOSE, pos)
        if end < 0:
            return spans, pos
        start = text.rfind(THINK_OPEN, pos, end)
        spans.append((start + len(THINK_OPEN) if start >= 0 else pos, end))
        pos = end + len(THINK_CLOSE)


def _strip_tags(text: str) -> str:
    return _TAGS.sub(" ", text).strip()


def parse(generation: object) -> ParsedTrace:
    """Split ``generation`` into think block, CLS label, IR text and answer; any input is accepted."""
    raw = generation if isinstance(generation, str) else ("" if generation is None else str(generation))
    header = _ROLE_HEADER.match(raw)
    text = raw[header.end():] if header else raw
    spans, after_trace = _think_blocks(text)
    think_closed = bool(spans)
    if not spans:
        open_at = text.find(THINK_OPEN)
        if open_at >= 0:  # truncated: an opened block that never closes
            spans = [(open_at + len(THINK_OPEN), len(text))]
            after_trace = len(text)
    chosen = spans[0] if spans else None
    for span in reversed(spans):
        block = text[span[0]:span[1]]
        if _CLS_MARKER.search(block) or _IR_MARKER.search(block):
            chosen = span
            break
    think = _strip_tags(text[chosen[0]:chosen[1]]) if chosen else ""

    cls_match = _CLS_MARKER.search(think)
    cls_label = cls_match.group("label").strip() if cls_match else None
    ir_match = _IR_MARKER.search(think)
    ir_text = think[ir_match.end():].strip() if ir_match else None

    answer_from = chosen[1] if chosen else 0
    open_at = text.find(ANSWER_OPEN, answer_from)
    if open_at < 0 and chosen is None:
        open_at = text.find(ANSWER_OPEN)
    if open_at >= 0:
        start = open_at + len(ANSWER_OPEN)
        close_at = text.find(ANSWER_CLOSE, start)
        answer = _strip_tags(text[start:close_at if close_at >= 0 else len(text)])
    else:
        answer = _strip_tags(text[after_trace:])
    direct_answer = answer
    if spans and not think_closed:
        direct_answer = parse(text.replace(THINK_OPEN, "")).answer
    return ParsedTrace(raw, bool(spans), think_closed, think, cls_label, ir_text, answer, open_at >= 0, direct_answer)
