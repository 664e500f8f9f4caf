"""What a dataset adapter declares: its label set, trace sentences, answer rule and loader."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracekd_ext.errors import TracekdError

if TYPE_CHECKING:
    from tracekd_ext.answer_rules import AnswerScore
    from tracekd_ext.record import Problem


@dataclass(frozen=True)
class DatasetSpec:
    """Everything the format, scoring and CLI need to know about one dataset.

    Attributes:
        name: short name used on the command line (``cotemp``, ``babi``, ``marco``).
        labels: the closed set of classification labels.
        cls_sentence: the CLS step as rendered, with ``{label}`` where the label goes, ending in a newline.
            The parser finds a CLS step by the last sentence before ``{label}`` (``trace_parse``).
        ir_intro: the IR step's text before the cited units; the parser finds an IR step by it.
        unit_noun: what a context unit is called in instructions ("facts", "text", "passages").
        context_style: ``"list"`` renders the context as a Python list, ``"lines"`` one unit per line.
        render_answer: the gold answer as written inside ``<answer>``.
        answer_format: how the instruction describes the answer format.
        score_answer: the dataset's answer rule, ``(problem, text, mode) -> AnswerScore``.
        wrong_unit_count: how many units an incorrect IR step cites for a problem.
        paper_cls_sentence: which ``.``-sentence of the trace the paper's CLS check reads (0 or 1).
        load: ``(data_dir, split, **options) -> list[Problem]``; ``data_dir=None`` reads the public source.
        options: loader options that may come from lm-eval ``--metadata``.
        from_raw: ``(row, path=, line=) -> Problem`` for one row of the dataset's raw fields (predictions files).
        labels_of: the label set a problem was drawn with, when it depends on loader options (bAbI's task
            set); ``None`` means ``labels``. Incorrect traces draw their wrong label from it.
        lookup_options: loader options with which ``load(data_dir, "all", ...)`` returns every problem an id
            can name (``tracekd rescore`` resolves id-only predictions with them).
        label_phrases: label -> the words or phrases that name it in prose (free-form judging reads the
            classification step from them); empty: the labels cannot be said in words, the step is not scored.
        label_cue: words one of which a sentence must hold for a label phrase in it to name a label
            (``relation`` for CoTemp, so "during his time as ..." names no label).
        paper_answer_span: whether the dataset's published evaluator reads the answer with the published
            extraction cascade (``answer_rules.paper_answer_span``) in paper mode; false: the ``<answer>`` text.
    """

    name: str
    labels: tuple[str, ...]
    cls_sentence: str
    ir_intro: str
    unit_noun: str
    context_style: str
    render_answer: Callable[[Problem], str]
    answer_format: str
    score_answer: Callable[[Problem, str, str], AnswerScore]
    wrong_unit_count: Callable[[Problem], int]
    paper_cls_sentence: int
    load: Callable[..., Sequence[Problem]]
    options: tuple[str, ...] = ()
    from_raw: Callable[..., Problem] | None = None
    labels_of: Callable[[Problem], tuple[str, ...]] | None = None
    lookup_options: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    label_phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)
    label_cue: tuple[str, ...] = ()
    paper_answer_span: bool = False

    def __post_init__(self) -> None:
        if self.cls_sentence.count("{label}") != 1 or not self.cls_sentence.split("{label}")[0].strip():
            raise TracekdError(f"dataset '{self.name}': cls_sentence must hold one {{label}} after some words")
        if not self.ir_intro.strip():
            raise TracekdError(f"dataset '{self.name}': ir_intro must not be empty")

    def labels_for(self, problem: Problem) -> tuple[str, ...]:
        """The closed label set of ``problem`` (``labels`` unless the adapter narrows it per problem)."""
        return self.labels_of(problem) if self.labels_of is not None else self.labels
