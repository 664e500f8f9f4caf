"""Saved generations never give wrong numbers without a word (issue 9, section 5): a null generation is an
empty one, records of another dataset are refused, and no item counts twice in a table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_fixtures import cotemp_problems, samples_row, write_samples

from tracekd_ext.adapters import get_spec
from tracekd_ext.cli import main
from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.harness.task_hooks import make_doc
from tracekd_ext.rescore import load_scored, per_sample_rows
from tracekd_ext.trace_format import render_target


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _records(dataset: str, n: int, data_dir: Path) -> list[dict]:
    spec = get_spec(dataset)
    split = "all" if dataset == "marco" else "test"
    return [{**p.to_dict(), "prediction": render_target(p, spec, "correct")} for p in spec.load(data_dir, split)[:n]]


def test_a_null_prediction_is_an_empty_generation_not_the_text_none(tmp_path, data_dir):
    # a direct item whose gold answer is the word "None": scoring str(None) would call it correct
    (problem,) = cotemp_problems(1)
    row = {**problem.to_dict(), "answers": ["None"], "prediction": None}
    scored = load_scored(write_jsonl(tmp_path / "p.jsonl", [row]), "cotemp_direct")
    (item,) = scored.items
    assert item.generation == ""
    assert item.score.parse_ok is False and item.score.answer_correct is False
    assert per_sample_rows(scored)[0]["prediction"] == ""


@pytest.mark.parametrize("resps", [{"filtered_resps": [None]}, {"resps": [[None]]}])
def test_a_null_response_in_a_samples_file_is_an_empty_generation(tmp_path, resps):
    (problem,) = cotemp_problems(1)
    doc = make_doc(problem, "direct", "strict", False)
    doc["answers"] = ["None"]
    path = write_samples(tmp_path / "samples_cotemp_direct_2026-01-01T00-00-00.000000.jsonl",
                         [{"doc_id": 0, "doc": doc, **resps}])
    (item,) = load_scored(path).items
    assert item.generation == "" and item.score.answer_correct is False and item.score.parse_ok is False


def test_a_non_string_prediction_is_a_one_line_error(tmp_path):
    (problem,) = cotemp_problems(1)
    path = write_jsonl(tmp_path / "p.jsonl", [{**problem.to_dict(), "prediction": ["x"]}])
    with pytest.raises(DataError, match=rf"{path}:1: field 'prediction': expected a string or null, got list"):
        load_scored(path, "cotemp_trace")


def test_a_predictions_file_mixing_datasets_names_the_first_foreign_line(tmp_path, data_dir):
    rows = _records("cotemp", 3, data_dir) + _records("babi", 2, data_dir)
    path = write_jsonl(tmp_path / "mixed.jsonl", rows)
    with pytest.raises(DataError, match=rf"^{path}:4: field 'dataset': a babi record does not belong to this file"):
        load_scored(path)


def test_a_task_of_another_dataset_is_refused(tmp_path, data_dir, capsys):
    path = write_jsonl(tmp_path / "cotemp.jsonl", _records("cotemp", 3, data_dir))
    assert main(["rescore", str(path), "--task", "babi_trace"]) != 0
    err = capsys.readouterr().err
    assert f"{path}:1: field 'dataset': a cotemp record does not belong to task 'babi_trace'" in err
    assert len(err.strip().splitlines()) == 1


def test_samples_of_another_dataset_under_a_task_name_are_refused(tmp_path):
    rows = [samples_row(p, "x", i) for i, p in enumerate(cotemp_problems(2))]
    path = write_samples(tmp_path / "samples_babi_trace_2026-01-01T00-00-00.000000.jsonl", rows)
    with pytest.raises(DataError, match=rf"{path}:1: .*cotemp record does not belong to task 'babi_trace'"):
        load_scored(path)


def test_the_same_file_twice_is_refused(tmp_path, data_dir, capsys):
    path = write_jsonl(tmp_path / "p.jsonl", _records("cotemp", 5, data_dir))
    alias = tmp_path / "sub" / ".." / "p.jsonl"
    (tmp_path / "sub").mkdir()
    assert main(["rescore", str(path), str(alias), "--task", "cotemp_trace"]) != 0
    assert "given twice" in capsys.readouterr().err


def test_one_item_in_two_files_is_an_error_naming_both(tmp_path, data_dir, capsys):
    rows = _records("cotemp", 5, data_dir)
    first = write_jsonl(tmp_path / "run1.jsonl", rows)
    second = write_jsonl(tmp_path / "run2.jsonl", rows[3:])  # a copy, another model: the same items
    assert main(["rescore", str(first), str(second), "--task", "cotemp_trace"]) != 0
    err = capsys.readouterr().err
    assert f"{second}:1: item '{rows[3]['id']}' of task 'cotemp_trace' is also at {first}:4" in err


def test_a_repeated_line_is_an_error(tmp_path, data_dir):
    rows = _records("cotemp", 2, data_dir)
    path = write_jsonl(tmp_path / "p.jsonl", [*rows, rows[0]])
    with pytest.raises(TracekdError, match=rf"{path}:3: item .* is also at {path}:1"):
        load_scored(path, "cotemp_trace")


def test_disjoint_files_of_one_task_pool_and_report_shows_both(tmp_path, data_dir):
    """The issue's report reproduction: a rescore JSON of two files of one task (20 + 3 items) lost the second
    in the report, whose pooled n (23) then disagreed with its task table (20)."""
    rows = _records("cotemp", 23, data_dir)
    a = write_jsonl(tmp_path / "a.jsonl", rows[:20])
    b = write_jsonl(tmp_path / "b.jsonl", rows[20:])
    summary_path = tmp_path / "ab.json"
    assert main(["rescore", str(a), str(b), "--task", "cotemp_trace", "--output", str(summary_path)]) == 0
    summary = json.loads(summary_path.read_text())
    assert summary["pooled"]["n"] == 23
    assert main(["report", str(summary_path), "--out", str(tmp_path / "report")]) == 0
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    (run,) = report["runs"]
    task_n = {task: part["n"] for task, part in run["tasks"].items()}
    assert task_n == {"cotemp_trace": 20, "cotemp_trace#2": 3}
    assert run["pooled"]["n"] == sum(task_n.values())
