"""The CoTemp adapter on the offline copy: split, decomposition, round trips, bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tracekd_ext.adapters.cotemp import RELATIONS, paper_test_positions, problem_from_row
from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.scoring import score
from tracekd_ext.trace_format import render_target
from tracekd_ext.trace_parse import parse


@pytest.mark.parametrize("n", [5, 361, 436, 578, 958, 3096])
def test_split_equals_pandas_sample(n):
    frame = pd.DataFrame({"row": range(n)})
    assert paper_test_positions(n) == set(frame.sample(frac=0.2, random_state=42).index)


def test_splits_partition_the_data(data_dir, cotemp_spec, cotemp_problems):
    test = {p.id for p in cotemp_spec.load(data_dir, "test")}
    train = {p.id for p in cotemp_spec.load(data_dir, "train")}
    assert not test & train and test | train == {p.id for p in cotemp_problems}
    assert len(cotemp_problems) == 2385 and len(test) == 478


def test_decomposition_follows_the_rules(data_dir, cotemp_problems):
    rows = {}
    for relation in RELATIONS:
        for line in (data_dir / "cotempqa" / f"{relation}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows[f"cotemp/{relation}/{row['index']}"] = (relation, row)
    for p in cotemp_problems:
        relation, row = rows[p.id]
        assert p.label == relation and list(p.units) == row["facts"] and list(p.answers) == row["answer"]
        assert list(p.support) == [i for i, f in enumerate(row["facts"]) if any(a in f for a in row["answer"])]


def test_every_record_round_trips_through_strict_scoring(cotemp_spec, cotemp_problems):
    for p in cotemp_problems:
        gold = score(p, parse(render_target(p, cotemp_spec, "correct")), cotemp_spec)
        assert gold.parse_ok and gold.trace_correct and gold.answer_correct, p.id
        wrong = score(p, parse(render_target(p, cotemp_spec, "incorrect")), cotemp_spec)
        assert not wrong.cls_correct and not wrong.ret_correct and wrong.answer_correct, p.id
        direct = score(p, parse(render_target(p, cotemp_spec, "answer")), cotemp_spec, kind="direct")
        assert direct.answer_correct, p.id


def test_incorrect_targets_are_seeded_per_problem(cotemp_spec, cotemp_problems):
    sample = cotemp_problems[:50]
    first = [render_target(p, cotemp_spec, "incorrect", seed=7) for p in sample]
    assert first == [render_target(p, cotemp_spec, "incorrect", seed=7) for p in reversed(sample)][::-1]
    assert first != [render_target(p, cotemp_spec, "incorrect", seed=8) for p in sample]


def test_bad_rows_name_file_line_and_field():
    with pytest.raises(DataError, match=r"x\.jsonl:3: field 'facts': missing"):
        problem_from_row({"index": 0, "triple_element": "S1_R1_O2", "question": "q", "answer": ["a"]},
                         "equal", path="x.jsonl", line=3)
    with pytest.raises(DataError, match="field 'answer': expected list"):
        problem_from_row({"index": 0, "triple_element": "S1_R1_O2", "question": "q", "facts": [], "answer": "a"},
                         "equal", path="x.jsonl", line=1)


def test_missing_directory_and_unknown_split(tmp_path, cotemp_spec):
    with pytest.raises(DataError, match="data directory not found"):
        cotemp_spec.load(tmp_path / "nope", "test")
    with pytest.raises(DataError, match="no CoTemp file for relation 'equal'"):
        cotemp_spec.load(tmp_path, "test")
    with pytest.raises(TracekdError, match="unknown split"):
        cotemp_spec.load(tmp_path, "dev")
