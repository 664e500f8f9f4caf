"""Parsing a generation into its trace steps and answer. Never raises: a missing part is empty."""

from __future__ import annotations

import ast
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
MAX_LITERAL_CHARS = 200_000
# A chat-role header line left at the start by decoding with special tokens skipped: decoding residue.
_ROLE_HEADER = re.compile(r"\s*(?:<\|im_start\|>[ \t]*assistant[ \t]*\n?|<\|assistant\|>[ \t]*\n?"
                          r"|assistant[ \t]*(?::[ \t]*\n?|\n|\Z))", re.IGNORECASE)
_QUOTE = re.compile("['\"]")
# A string literal's body after its opening quote: plain characters or escape pairs, possessive (no
# backtracking), stopping at the first unescaped quote of its kind, a line end or a lone backslash.
_STRING_BODY = {quote: re.compile(rf"(?:[^{quote}\\\n]|\\.)*+") for quote in "'\""}
_PLAIN_STRING = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")


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


def _eval_literal(source: str) -> object:
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _string_tokens(source: str) -> list[tuple[int, int]]:
    """Spans of the quoted string literals in ``source``, left to right, in one pass.

    A quote that opens no literal (no closing quote before the line end) is skipped, and so is every
    quote of its kind up to where that scan stopped: those are escaped inside the failed scan, and a
    scan from them would stop at the same place. Each character is scanned at most once per quote kind.
    Without any backslash one regex pass does the same: a failed scan stops at the first line end, and
    no other quote of its kind lies before it.
    """
    if "\\" not in source:  # no escapes: a failed scan ends at the line end, so the regex stays linear
        return [m.span() for m in _PLAIN_STRING.finditer(source)]
    tokens, failed_until = [], {"'": -1, '"': -1}
    pos = 0
    while (found := _QUOTE.search(source, pos)) is not None:
        start, quote = found.start(), found.group()
        if start < failed_until[quote]:
            pos = start + 1
            continue
        end = _STRING_BODY[quote].match(source, start + 1).end()
        if end < len(source) and source[end] == quote:
            tokens.append((start, end + 1))
            pos = end + 1
        else:
            failed_until[quote] = end
            pos = start + 1
    return tokens


def _is_list_frame(pieces: list[str]) -> bool:
    """Whether the text around string tokens is exactly a list's brackets and separating commas."""
    if len(pieces) == 1:
        return pieces[0][1:-1].strip() == ""
    first, last = "".join(pieces[0].split()), "".join(pieces[-1].split())
    return first == "[" and last in ("]", ",]") and all(p.strip() == "," for p in pieces[1:-1])


def literal_strings(text: str) -> list[str] | None:
    """The strings of a Python list literal in ``text`` (``['a', 'b']``), or ``None`` if there is none.

    A list of plain quoted strings (the trace format's own output) is read without compiling; anything
    else goes through ``ast.literal_eval``. Linear in the length of ``text``.
    """
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end <= start or end - start > MAX_LITERAL_CHARS:
        return None
    source = text[start:end + 1]
    tokens = _string_tokens(source)
    bounds = [0, *(i for span in tokens for i in span), len(source)]
    pieces = [source[bounds[i]:bounds[i + 1]] for i in range(0, len(bounds), 2)]  # "[", ", ", ..., "]"
    if _is_list_frame(pieces):
        items = []
        for token in (source[a:b] for a, b in tokens):
            if "\\" in token:
                value = _eval_literal(token)
                if not isinstance(value, str):
                    return None
                items.append(value)
            else:
                items.append(token[1:-1])
        return items
    value = _eval_literal(source)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return None
