"""Parsing a generation into its trace steps and answer. Never raises: a missing part is empty.

The CLS and IR steps are found by the sentences the datasets declare (``DatasetSpec.cls_sentence`` and
``ir_intro``, the same text ``trace_format`` renders): those of every registered dataset, and of the spec
given to :func:`parse`. A declared sentence matches case-insensitively, with any run of whitespace between
its words, optional whitespace before a colon, and without its leading article (``The``) if it has one;
for the CLS step the last sentence before ``{label}`` is matched, and the label runs to the next ``.`` or
line end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tracekd_ext.adapters import all_specs
from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.frozen_build import builder
from tracekd_ext.trace_format import ANSWER_CLOSE, ANSWER_OPEN, THINK_CLOSE, THINK_OPEN

_TAGS = re.compile("|".join(map(re.escape, (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE))))
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_ARTICLES = ("a", "an", "the")
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


# ParsedTrace from its fields in declaration order (raw ... direct_answer), without the keyword __init__'s cost.
_parsed_trace = builder(ParsedTrace)


def _sentence_pattern(sentence: str) -> str:
    """The regex of one declared sentence (see the module docstring for what it tolerates)."""
    words = sentence.replace(":", " : ").split()
    if len(words) > 1 and words[0].lower() in _ARTICLES:
        words = words[1:]
    pattern = ""
    for word in words:
        if word == ":":
            pattern += r"\s*:"
        else:
            pattern += (r"\s+" if pattern else "") + re.escape(word)
    return pattern


@lru_cache(maxsize=64)
def _markers(cls_sentences: tuple[str, ...], ir_intros: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The CLS and IR marker regexes of a set of declared sentences (compiled once per set)."""
    cls_heads = sorted({_SENTENCE_END.split(s.split("{label}")[0].strip())[-1] for s in cls_sentences})
    intros = sorted({intro.strip() for intro in ir_intros})
    cls = "|".join(_sentence_pattern(head) for head in cls_heads)
    ir = "|".join(_sentence_pattern(intro) for intro in intros)
    return (re.compile(rf"(?:{cls})\s*(?P<label>[^\n.]*)", re.IGNORECASE),
            re.compile(rf"(?:{ir})", re.IGNORECASE))


# The last markers asked for, with the registry (all_specs()) and spec they were built from: parse asks per generation.
_last_markers: tuple = (None, None, None)


def markers(spec: DatasetSpec | None = None) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The CLS and IR marker regexes: every registered dataset's sentences, plus ``spec``'s."""
    global _last_markers
    specs, last = all_specs(), _last_markers
    if last[0] is specs and last[1] is spec:
        return last[2]
    known = specs if spec is None or any(s is spec for s in specs) else (*specs, spec)
    found = _markers(tuple(s.cls_sentence for s in known), tuple(s.ir_intro for s in known))
    _last_markers = specs, spec, found
    return found


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


def parse(generation: object, spec: DatasetSpec | None = None) -> ParsedTrace:
    """Split ``generation`` into think block, CLS label, IR text and answer; any input is accepted.

    The CLS and IR steps are recognised by every registered dataset's sentences, and by ``spec``'s when
    it is given (a dataset that is not registered)."""
    cls_marker, ir_marker = markers(spec)
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
    chosen, think, cls_match, ir_match = (spans[0] if spans else None), None, None, None
    for span in reversed(spans):
        block = text[span[0]:span[1]]
        if "<" in block:
            if cls_marker.search(block) or ir_marker.search(block):
                chosen = span
                break
            continue
        # no tags to strip: the block's think text is the block stripped, and the markers match alike in both
        think = block.strip()
        cls_match, ir_match = cls_marker.search(think), ir_marker.search(think)
        if cls_match or ir_match:
            chosen = span
            break
        think = None
    if think is None:
        think = _strip_tags(text[chosen[0]:chosen[1]]) if chosen else ""
        cls_match, ir_match = cls_marker.search(think), ir_marker.search(think)
    cls_label = cls_match.group("label").strip() if cls_match else None
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
        direct_answer = parse(text.replace(THINK_OPEN, ""), spec).answer
    return _parsed_trace(raw, bool(spans), think_closed, think, cls_label, ir_text, answer, open_at >= 0,
                         direct_answer)
