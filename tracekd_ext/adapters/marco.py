"""MS MARCO QA decomposed by rules into Problem records, and its DatasetSpec.

label = ``query_type`` upper-cased (v1.1 writes it in lower case); units = the passage texts;
support = the passages the annotators selected (``is_selected = 1``). The paper's evaluation instead
used the single passage with the largest word overlap with the first answer (lower-cased word sets,
first passage on ties): kept in ``meta['paper_support']`` and used as support with ``support=overlap``.
Queries without an answer ("No Answer Present." or none) are left out unless ``keep_no_answer``; kept,
their gold answer is "No Answer Present.".

Splits (stable hash, seed 42, key = ``query_id``, stratum = version / public split / query type):
test = ``validation`` queries below the type's test rate, train = ``train`` queries below its train
rate, all = every query of every source. Rates = target / estimated answerable queries of the type
(see :func:`sample_rate`), so each type gets about 200 test and 1,000 train queries on the public data.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.answer_rules import AnswerScore, exact_match_any
from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.files.cache import cache_root
from tracekd_ext.files.outputs import write_jsonl
from tracekd_ext.files.read import read_jsonl
from tracekd_ext.options import as_bool, as_choice
from tracekd_ext.record import Problem
from tracekd_ext.splits import LOG, SPLIT_SEED, in_sample, report_missing

HUB_ID = "microsoft/ms_marco"
HUB_CONFIG = "v2.1"
QUERY_TYPES = ("DESCRIPTION", "NUMERIC", "ENTITY", "LOCATION", "PERSON")
NO_ANSWER = "No Answer Present."
SPLITS = ("test", "train", "all")
SUPPORT_RULES = ("selected", "overlap")
# Targets per query type and the public source split each sample is drawn from.
TARGETS = {"test": ("validation", 200), "train": ("train", 1000)}
# Answerable queries per public split (v2.1: queries with a selected passage, the MS MARCO passage-ranking
# qrels: 502,939 train / 55,578 dev; v1.1: the split sizes, nearly every v1.1 query has an answer) and the
# query-type shares of the MS MARCO paper (Bajaj et al. 2016). Estimates: they fix the rates, not the counts.
ANSWERABLE = {"v2.1": {"train": 502_939, "validation": 55_578}, "v1.1": {"train": 82_326, "validation": 10_047}}
TYPE_SHARES = {"DESCRIPTION": 0.5312, "NUMERIC": 0.2612, "ENTITY": 0.0881, "LOCATION": 0.0617, "PERSON": 0.0578}
_SPLIT_IN_NAME = (("validation", re.compile(r"valid|dev|(^|[^a-z])val([^a-z]|$)")), ("train", re.compile(r"train")),
                  ("test", re.compile(r"test|eval")))


def sample_rate(version: str, split: str, query_type: str) -> float:
    """The hash threshold of ``split`` (test or train) for one query type: target / estimated population."""
    source, target = TARGETS[split]
    return min(1.0, target / (ANSWERABLE[version][source] * TYPE_SHARES[query_type]))


def _passages(row: dict[str, Any], path: object, line: int | None) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Passage texts and selected indices from either shape: a list of dicts (the original JSON) or a dict
    of lists (the hub)."""
    if "passages" not in row:
        raise DataError("missing", path=path, line=line, field="passages")
    passages = row["passages"]
    if isinstance(passages, dict):
        texts, flags = passages.get("passage_text"), passages.get("is_selected")
        flags = [0] * len(texts) if flags is None and isinstance(texts, list) else flags
    elif isinstance(passages, list) and all(isinstance(p, dict) for p in passages):
        texts = [p.get("passage_text") for p in passages]
        flags = [p.get("is_selected", 0) for p in passages]
    else:
        raise DataError("expected a list of passages or a dict of lists", path=path, line=line, field="passages")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise DataError("expected passage_text strings", path=path, line=line, field="passages")
    if not texts:
        raise DataError("no passages", path=path, line=line, field="passages")
    if not isinstance(flags, list) or len(flags) != len(texts):
        raise DataError("is_selected does not match passage_text", path=path, line=line, field="passages")
    return tuple(texts), tuple(i for i, flag in enumerate(flags) if flag == 1)


def overlap_passage(units: tuple[str, ...], answer: str) -> int:
    """The paper's support: the passage sharing most lower-cased words with ``answer`` (first on ties)."""
    words = set(answer.lower().split())
    scores = [len(words & set(unit.lower().split())) for unit in units]
    return scores.index(max(scores))


def query_label(row: dict[str, Any], path: object = None, line: int | None = None) -> tuple[str, str]:
    """``(label, version)``: the upper-cased query type and ``v1.1`` (lower-case types) or ``v2.1``."""
    raw = row.get("query_type")
    if not isinstance(raw, str):
        raise DataError("missing" if raw is None else "expected a string", path=path, line=line, field="query_type")
    label = raw.strip().upper()
    if label not in QUERY_TYPES:
        raise DataError(f"expected one of {', '.join(QUERY_TYPES)}, got {raw!r}", path=path, line=line,
                        field="query_type")
    return label, "v1.1" if raw.strip().islower() else "v2.1"


def problem_from_row(row: dict[str, Any], *, source_split: str = "unknown", path: object = None,
                     line: int | None = None, support_rule: str = "selected") -> Problem:
    """One MS MARCO row (hub fields) as a Problem; a missing or mistyped field is a DataError."""
    for name, kind in (("query", str), ("query_id", int), ("answers", list)):
        if name not in row:
            raise DataError("missing", path=path, line=line, field=name)
        if not isinstance(row[name], kind) or isinstance(row[name], bool):
            raise DataError(f"expected {kind.__name__}, got {type(row[name]).__name__}", path=path, line=line,
                            field=name)
    label, version = query_label(row, path, line)
    units, selected = _passages(row, path, line)
    answers = tuple(a.strip() for a in row["answers"] if isinstance(a, str) and a.strip() and a.strip() != NO_ANSWER)
    paper_support = [overlap_passage(units, answers[0])] if answers else []
    return Problem(
        id=f"marco/{version}/{row['query_id']}",
        dataset="marco",
        units=units,
        question=row["query"],
        label=label,
        support=tuple(paper_support) if support_rule == "overlap" else selected,
        answers=answers or (NO_ANSWER,),
        meta={"query_id": row["query_id"], "query_type": row["query_type"], "version": version,
              "split": source_split, "paper_support": paper_support, "no_answer": not answers},
    )


def problem_from_raw(row: dict[str, Any], *, path: object = None, line: int | None = None) -> Problem:
    """A predictions row with the hub fields (``query``, ``query_id``, ``query_type``, ``passages``,
    ``answers``)."""
    return problem_from_row(row, path=path, line=line)


def public_split_of(path: Path) -> str:
    """Which public split a local file holds, from its name (``train``, ``validation``/``dev``, ``test``)."""
    name = path.name.lower()
    for split, pattern in _SPLIT_IN_NAME:
        if pattern.search(name):
            return split
    raise DataError("cannot tell the public split from the file name; name it *train*.jsonl or "
                    "*validation*.jsonl", path=path)


def _local_sources(data_dir: Path) -> list[tuple[str, Path]]:
    folder = data_dir / "msmarco" if (data_dir / "msmarco").is_dir() else data_dir
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise DataError(f"no MS MARCO JSONL files (expected {data_dir / 'msmarco' / '*.jsonl'})", path=data_dir)
    return [(public_split_of(f), f) for f in files]


def _rows(data_dir: Path | None, splits: Iterable[str]) -> Iterator[tuple[str, object, int, dict[str, Any]]]:
    """``(public split, where, line, row)`` from local JSONL files or the hub (streamed)."""
    if data_dir is not None:
        for source_split, path in _local_sources(data_dir):
            if source_split in splits:
                for line, row in read_jsonl(path):
                    yield source_split, path, line, row
        return
    try:
        import datasets
    except ImportError as err:  # pragma: no cover - datasets comes with lm-eval
        raise TracekdError("reading MS MARCO from the hub needs the 'datasets' package") from err
    for source_split in splits:
        where = f"hf://{HUB_ID}/{HUB_CONFIG}/{source_split}"
        try:
            rows = iter(datasets.load_dataset(HUB_ID, HUB_CONFIG, split=source_split, streaming=True))
            row = next(rows, None)
        except Exception as err:  # offline, hub down, renamed: all mean "use a local copy"
            raise TracekdError(f"cannot read {where} ({type(err).__name__}: {err}); give a local copy with "
                               "TRACEKD_DATA_DIR or --metadata '{\"data_dir\": \"DIR\"}'") from None
        line = 1
        while row is not None:
            yield source_split, where, line, row
            row, line = next(rows, None), line + 1


def sample_cache_path(split: str) -> Path:
    """Where the hub sample of ``split`` is cached: the user cache, keyed by everything that decides which rows
    the sample holds (source, config, split rule and its seed, targets and rate estimates)."""
    key = json.dumps({"source": HUB_ID, "config": HUB_CONFIG, "split": split, "seed": SPLIT_SEED, "targets": TARGETS,
                      "answerable": ANSWERABLE, "shares": TYPE_SHARES, "format": 1}, sort_keys=True)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return cache_root() / "datasets" / "marco" / f"{HUB_CONFIG}-{split}-{digest}.jsonl"


def _hub_sample(split: str) -> list[tuple[str, object, int, dict[str, Any]]]:
    """The hub rows of ``split``'s sample (test or train): from the cache, else streamed once (the whole public
    split) and cached. Rows are cached before the loader options apply, so every option shares one cache file."""
    cache = sample_cache_path(split)
    if cache.is_file():
        return [(r["source_split"], r["where"], r["line"], r["row"]) for _, r in read_jsonl(cache)]
    sources = (TARGETS[split][0],)
    LOG.warning("MS MARCO %s split: streaming %s %s from the hub once (cached in %s)", split, HUB_ID,
                "/".join(sources), cache)
    rows = [entry for entry in _rows(None, sources) if _wanted(split, *entry)]
    cache.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(cache, [{"source_split": s, "where": w, "line": n, "row": r} for s, w, n, r in rows])
    return rows


def _wanted(split: str, source_split: str, path: object, line: int, row: dict[str, Any]) -> bool:
    if split == "all":
        return True
    label, version = query_label(row, path, line)
    query_id = row.get("query_id")
    if query_id is None:
        raise DataError("missing", path=path, line=line, field="query_id")
    return in_sample(str(query_id), f"marco/{version}/{source_split}/{label}", sample_rate(version, split, label))


def load(data_dir: str | Path | None = None, split: str = "test", keep_no_answer: Any = False,
         support: Any = "selected", **_: Any) -> list[Problem]:
    """MS MARCO problems of ``split`` (test, train, all) in source order.

    ``data_dir``: a folder with ``msmarco/*.jsonl`` (the public split named in each file name); ``None``
    streams ``microsoft/ms_marco`` v2.1 from the hub. ``keep_no_answer``: keep unanswered queries;
    ``support``: ``selected`` (annotators) or ``overlap`` (the paper's max word-overlap passage).
    """
    if split not in SPLITS:
        raise TracekdError(f"unknown split '{split}'; choose from {', '.join(SPLITS)}")
    keep, rule = as_bool("keep_no_answer", keep_no_answer), as_choice("support", support, SUPPORT_RULES)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DataError("data directory not found", path=data_dir)
    local = None if data_dir is None else Path(data_dir)
    sources = ("train", "validation", "test") if split == "all" else (TARGETS[split][0],)
    problems = []
    cached = local is None and split != "all"  # "all" is the whole dataset: streamed, never copied
    entries = _hub_sample(split) if cached else (e for e in _rows(local, sources) if _wanted(split, *e))
    for source_split, where, line, row in entries:
        problem = problem_from_row(row, source_split=source_split, path=where, line=line, support_rule=rule)
        if keep or not problem.meta["no_answer"]:
            problems.append(problem)
    if local is not None and split != "all":
        _report_local_sample(problems, split, local)
    return problems


def _report_local_sample(problems: list[Problem], split: str, data_dir: Path) -> None:
    """Say how a local sample compares with the public one; an empty test split is an error."""
    source, target = TARGETS[split]
    counts = Counter(p.label for p in problems)
    short = [f"{t} {counts[t]}" for t in QUERY_TYPES if counts[t] < target / 2]
    if not problems and split == "test":
        raise TracekdError(f"MS MARCO: no test items in {data_dir} (test items are sampled from the public "
                           f"'{source}' split, ~{target} per query type; the local files hold none of them). "
                           "Evaluate every local item with split=all, e.g. --metadata '{\"split\": \"all\"}'")
    if short:
        report_missing("MS MARCO", split, [f"{len(problems)} items here, about {target} per query type expected "
                                           f"from the full '{source}' split (here: {', '.join(short)})"])
    else:
        LOG.info("MS MARCO %s split: %d items (%s)", split, len(problems), dict(counts))


def _score_answer(problem: Problem, text: str, mode: str) -> AnswerScore:
    return exact_match_any(text, problem.answers)


SPEC = DatasetSpec(
    name="marco",
    labels=QUERY_TYPES,
    cls_sentence="The category of the question represents what is being asked in that question. "
                 "The category of the question asked is: {label}.\n",
    ir_intro="I need to use the following text to answer the question: ",
    unit_noun="passages",
    context_style="list",
    render_answer=lambda problem: problem.answers[0],
    answer_format="the answer as a short free-text sentence or phrase",
    score_answer=_score_answer,
    wrong_unit_count=lambda problem: 1,
    paper_cls_sentence=1,
    load=load,
    options=("keep_no_answer", "support"),
    from_raw=problem_from_raw,
    lookup_options={"keep_no_answer": True},
)
