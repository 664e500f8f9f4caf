"""CoTemp QA (Su et al., ACL 2024) decomposed by rules into Problem records, and its DatasetSpec.

label = the relation file a row comes from; support = the facts that contain a gold answer string;
split (``split_rule=paper``, default) = the paper's: per relation file, test =
``DataFrame.sample(frac=0.2, random_state=42)`` over row positions, which needs the complete relation
files (on a partial copy the positions fall on other rows). ``split_rule=hash``: test = the rows whose
stable hash (seed 42, stratum ``cotemp/<relation>``, key = the row's ``index``) falls below 0.2, so a
partial copy and the full data agree on every row they share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.adapters.cotemp_answer import score_cotemp_answer
from tracekd_ext.answer_rules import AnswerScore
from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.files.read import read_jsonl
from tracekd_ext.options import as_choice
from tracekd_ext.record import Problem
from tracekd_ext.splits import SPLIT_SEED, in_sample, report_missing

HUB_ID = "Warrieryes/CotempQA"
RELATIONS = ("equal", "overlap", "during", "mix")
SPLITS = ("test", "train", "all")
TEST_FRACTION = 0.2
PAPER_RANDOM_STATE = 42  # the published split's pandas random_state
SPLIT_RULES = ("paper", "hash")
PUBLIC_ROWS = {"equal": 436, "overlap": 653, "during": 3096, "mix": 563}  # rows of the hub files


def problem_from_row(row: dict[str, Any], relation: str, *, path: object = None, line: int | None = None) -> Problem:
    """One CoTemp row (hub fields) as a Problem; a missing or mistyped field is a DataError."""
    for name, kind in (("index", int), ("triple_element", str), ("question", str), ("facts", list), ("answer", list)):
        if name not in row:
            raise DataError("missing", path=path, line=line, field=name)
        if not isinstance(row[name], kind):
            raise DataError(f"expected {kind.__name__}, got {type(row[name]).__name__}", path=path, line=line,
                            field=name)
    for name in ("facts", "answer"):
        bad = next((v for v in row[name] if not isinstance(v, str)), "")
        if not isinstance(bad, str):  # never coerced: null would become the gold answer "None"
            raise DataError(f"expected a list of strings, got {type(bad).__name__} {bad!r}", path=path, line=line,
                            field=name)
    facts, answers = tuple(row["facts"]), tuple(row["answer"])
    if not answers:
        raise DataError("no gold answer", path=path, line=line, field="answer")
    support = tuple(i for i, fact in enumerate(facts) if any(a in fact for a in answers))
    return Problem(
        id=f"cotemp/{relation}/{row['index']}",
        dataset="cotemp",
        units=facts,
        question=row["question"],
        label=relation,
        support=support,
        answers=answers,
        meta={"triple_element": row["triple_element"], "index": row["index"]},
    )


def problem_from_raw(row: dict[str, Any], *, path: object = None, line: int | None = None) -> Problem:
    """A predictions-file row with the hub fields plus ``label`` (the relation); ``index`` defaults to the line."""
    label = row.get("label")
    if label not in RELATIONS:
        raise DataError(f"expected one of {', '.join(RELATIONS)}, got {label!r}", path=path, line=line, field="label")
    return problem_from_row({"index": line or 0, **row}, label, path=path, line=line)


def paper_test_positions(n_rows: int) -> set[int]:
    """Row positions that ``pandas.DataFrame.sample(frac=0.2, random_state=42)`` draws from ``n_rows`` rows."""
    size = round(TEST_FRACTION * n_rows)
    return set(np.random.RandomState(PAPER_RANDOM_STATE).choice(n_rows, size=size, replace=False).tolist())


def _local_file(data_dir: Path, relation: str) -> Path:
    for folder in (data_dir / "cotempqa", data_dir):
        for suffix in (".jsonl", ".json"):
            if (folder / f"{relation}{suffix}").is_file():
                return folder / f"{relation}{suffix}"
    expected = data_dir / "cotempqa" / f"{relation}.jsonl"
    raise DataError(f"no CoTemp file for relation '{relation}' (expected {expected})", path=data_dir)


def _read_relation(data_dir: str | Path | None, relation: str) -> list[Problem]:
    if data_dir is None:
        try:
            import datasets
        except ImportError as err:  # pragma: no cover - datasets comes with lm-eval
            raise TracekdError("reading CoTemp QA from the hub needs the 'datasets' package") from err
        try:
            rows = datasets.load_dataset(HUB_ID, data_files={relation: f"{relation}.json"}, split=relation)
        except Exception as err:  # offline, hub down, gated: all mean "use a local copy"
            raise TracekdError(f"cannot read {HUB_ID} from the hub ({type(err).__name__}: {err}); give a local "
                               f"copy with TRACEKD_DATA_DIR or --metadata '{{\"data_dir\": \"DIR\"}}'") from None
        return [problem_from_row(row, relation, path=f"hf://{HUB_ID}/{relation}.json", line=i + 1)
                for i, row in enumerate(rows)]
    path = _local_file(Path(data_dir), relation)
    return [problem_from_row(row, relation, path=path, line=line) for line, row in read_jsonl(path)]


def hash_test(index: int, relation: str) -> bool:
    """``split_rule=hash``: whether the row with ``index`` of ``relation`` is a test row."""
    return in_sample(str(index), f"cotemp/{relation}", TEST_FRACTION, SPLIT_SEED)


def load(data_dir: str | Path | None = None, split: str = "test", relations: tuple[str, ...] = RELATIONS,
         split_rule: str = "paper", **_: Any) -> list[Problem]:
    """CoTemp problems of ``split`` (test, train, all), relation by relation in file order.

    ``split_rule``: ``paper`` (the authors' positional sample; needs the complete relation files) or
    ``hash`` (stable per row). A partial local copy is reported in a warning.
    """
    if split not in SPLITS:
        raise TracekdError(f"unknown split '{split}'; choose from {', '.join(SPLITS)}")
    rule = as_choice("split_rule", split_rule, SPLIT_RULES)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DataError("data directory not found", path=data_dir)
    problems, partial = [], []
    for relation in relations:
        rows = _read_relation(data_dir, relation)
        if rule == "paper":
            test = paper_test_positions(len(rows))
            chosen = [p for i, p in enumerate(rows) if split == "all" or (i in test) == (split == "test")]
            if len(rows) < PUBLIC_ROWS[relation]:
                partial.append(f"{relation} {len(rows)} of {PUBLIC_ROWS[relation]} rows")
        else:
            chosen = [p for p in rows if split == "all" or hash_test(p.meta["index"], relation) == (split == "test")]
            absent = set(range(PUBLIC_ROWS[relation])) - {p.meta["index"] for p in rows}
            lacking = sum(1 for i in absent if split == "all" or hash_test(i, relation) == (split == "test"))
            if lacking:
                partial.append(f"{relation} lacks {lacking} {'rows' if split == 'all' else split + ' items'}")
        problems += chosen
    if partial and rule == "paper" and split != "all":
        partial.append("the paper's split needs the complete files, so these test items are not the paper's "
                       "(split_rule=hash keeps every row on its side)")
    report_missing("CoTemp", split, partial)
    return problems


def _score_answer(problem: Problem, text: str, mode: str) -> AnswerScore:
    return score_cotemp_answer(text, problem.answers, problem.question, problem.units,
                               problem.meta.get("triple_element", ""), mode)


SPEC = DatasetSpec(
    name="cotemp",
    labels=RELATIONS,
    cls_sentence="The temporal relation between the event in question and the event in context is: {label}.\n",
    ir_intro="I need to use the following facts to answer the question: ",
    unit_noun="facts",
    context_style="list",
    render_answer=lambda problem: repr(list(problem.answers)),
    answer_format="the answer as a Python list of strings, e.g. ['first answer', 'second answer']",
    score_answer=_score_answer,
    wrong_unit_count=lambda problem: 1,
    paper_cls_sentence=0,
    load=load,
    options=("split_rule",),
    from_raw=problem_from_raw,
    label_phrases={"equal": ("equal", "equals", "identical", "same time", "simultaneous", "simultaneously",
                             "coincide", "coincides", "coinciding"),
                   "overlap": ("overlap", "overlaps", "overlapping", "partially overlap", "partial overlap"),
                   "during": ("during", "within", "contained", "inside", "falls in", "falls within"),
                   "mix": ("mix", "mixed", "mixture", "combination", "several relations")},
    label_cue=("relation", "relationship", "relations", "event in question", "event in context"),
    paper_answer_span=True,
)
