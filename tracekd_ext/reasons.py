"""The words of the explanations the report's sample browser shows (why a step or an answer was judged so),
shared by the trace explanations (:mod:`tracekd_ext.report.explain`), the free-form ones
(:mod:`tracekd_ext.free_form.score`) and the interventions' (:mod:`tracekd_ext.interventions.browser_rows`)."""

from __future__ import annotations

import json

ARROW = "\u2192"


def verdict(ok: bool | None) -> str:
    """A step's judgement in a word (``None``: not scored)."""
    return "not scored" if ok is None else "correct" if ok else "wrong"


def short_number(value: float | None) -> str:
    """A score as the reader sees it: three decimals at most, ``n/a`` for none."""
    return "n/a" if value is None else f"{round(value, 3):g}"


def index_list(values) -> str:
    """Unit indices as ``[1, 3]``."""
    return "[" + ", ".join(str(v) for v in values) + "]"


def support_difference(support, cited) -> str:
    """What an explanation adds after "cited vs gold": the gold units not cited, the cited units not gold."""
    gold, chosen = set(support), set(cited)
    missing = [i for i in support if i not in chosen]
    extra = [i for i in cited if i not in gold]
    return (f"; missing {index_list(missing)}" if missing else "") + (f"; extra {index_list(extra)}" if extra else "")


def quoted(values) -> str:
    """A list of strings as the reader sees them: ``["a", "b"]``."""
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def answer_reason(answer_items: tuple[str, ...], golds: tuple[str, ...], correct: bool, f1: float) -> str:
    """How the answer was read and judged against the gold answers."""
    return f"read as {quoted(answer_items)} vs gold {quoted(golds)} {ARROW} {verdict(correct)} (F1 {short_number(f1)})"
