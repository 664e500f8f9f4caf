"""MS MARCO adapter: both passage shapes, labels, support rules, no-answer queries, splits, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from data_paths import DATA

from tracekd_ext.adapters import marco
from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.splits import in_sample

pytestmark = pytest.mark.usefixtures("data_dir")  # the offline data copy: skipped without it, failed under CI

SAMPLE = DATA / "msmarco" / "v1.1_train_first50.jsonl"

PASSAGES = ["Paris is in France", "The capital city of France is Paris", "Lyon is a city in France"]


def _row(**changes):
    row = {"answers": ["capital city of France is Paris"], "query": "what is the capital of france",
           "query_id": 7, "query_type": "LOCATION",
           "passages": [{"is_selected": int(i == 0), "passage_text": t, "url": "u"} for i, t in enumerate(PASSAGES)]}
    row.update(changes)
    return row


def test_both_passage_shapes_give_the_same_record():
    listed = marco.problem_from_row(_row())
    hub = _row(passages={"is_selected": [1, 0, 0], "passage_text": PASSAGES, "url": ["u"] * 3},
               wellFormedAnswers=[])
    assert marco.problem_from_row(hub) == listed
    assert listed.units == tuple(PASSAGES) and listed.support == (0,) and listed.label == "LOCATION"
    assert listed.id == "marco/v2.1/7" and listed.answers == ("capital city of France is Paris",)


def test_paper_support_is_the_max_overlap_passage():
    problem = marco.problem_from_row(_row())
    assert problem.meta["paper_support"] == [1]  # shares six words with the answer, the others three
    assert marco.problem_from_row(_row(), support_rule="overlap").support == (1,)
    assert marco.overlap_passage(("a b", "b c", "c d"), "x b c") == 1
    assert marco.overlap_passage(("a", "b"), "z") == 0  # ties (here: no overlap) go to the first passage


def test_v1_lower_case_types_are_upper_cased():
    problem = marco.problem_from_row(_row(query_type="location"))
    assert problem.label == "LOCATION" and problem.meta["version"] == "v1.1" and problem.id == "marco/v1.1/7"


def test_no_answer_queries():
    for answers in (["No Answer Present."], [], [" "]):
        problem = marco.problem_from_row(_row(answers=answers))
        assert problem.meta["no_answer"] and problem.answers == (marco.NO_ANSWER,)
        assert problem.meta["paper_support"] == []


def test_local_sample_loads_with_and_without_no_answer_queries():
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    answered = [r for r in rows if any(a.strip() and a != marco.NO_ANSWER for a in r["answers"])]
    assert len(marco.load(DATA, "all")) == len(answered) < len(rows)
    kept = marco.load(DATA, "all", keep_no_answer=True)
    assert [p.meta["query_id"] for p in kept] == [r["query_id"] for r in rows]
    assert {p.label for p in kept} <= set(marco.QUERY_TYPES)
    assert all(p.meta["split"] == "train" for p in kept)


def test_hash_split_and_its_rates(tmp_path):
    folder = tmp_path / "msmarco"
    folder.mkdir()
    rows = [_row(query_id=i, query_type=marco.QUERY_TYPES[i % 5]) for i in range(3000)]
    (folder / "dev_v2.1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    test = marco.load(tmp_path, "test")
    expected = [r["query_id"] for r in rows
                if in_sample(str(r["query_id"]), f"marco/v2.1/validation/{r['query_type']}",
                             marco.sample_rate("v2.1", "test", r["query_type"]))]
    assert [p.meta["query_id"] for p in test] == expected and expected
    # a partial copy keeps every query it holds on the same side
    (folder / "dev_v2.1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[::3]))
    assert [p.meta["query_id"] for p in marco.load(tmp_path, "test")] == [q for q in expected if q % 3 == 0]
    for split, (source, target) in marco.TARGETS.items():
        for query_type in marco.QUERY_TYPES:
            population = marco.ANSWERABLE["v2.1"][source] * marco.TYPE_SHARES[query_type]
            assert marco.sample_rate("v2.1", split, query_type) * population == pytest.approx(target)


def test_local_train_file_has_no_test_items():
    with pytest.raises(TracekdError, match="split=all"):
        marco.load(DATA, "test")


def test_public_split_from_file_name(tmp_path):
    assert marco.public_split_of(Path("v1.1_train_first50.jsonl")) == "train"
    assert marco.public_split_of(Path("dev_v2.1.jsonl")) == "validation"
    assert marco.public_split_of(Path("validation.jsonl")) == "validation"
    with pytest.raises(DataError, match="cannot tell the public split"):
        marco.public_split_of(Path("queries.jsonl"))


def _write(tmp_path, rows) -> Path:
    folder = tmp_path / "msmarco"
    folder.mkdir(exist_ok=True)
    path = folder / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(("broken", "message"), [
    ({"passages": None}, "field 'passages'"),
    ({"passages": []}, "field 'passages': no passages"),
    ({"query_type": "OPINION"}, "field 'query_type': expected one of DESCRIPTION"),
    ({"query_id": "seven"}, "field 'query_id': expected int"),
    ({"answers": "Paris"}, "field 'answers': expected list"),
])
def test_bad_rows_are_one_line_errors_with_file_and_line(tmp_path, broken, message):
    row = _row(**broken)
    if broken.get("passages", "") is None:
        del row["passages"]
    path = _write(tmp_path, [_row(query_id=1), row])
    with pytest.raises(DataError) as err:
        marco.load(tmp_path, "all")
    assert str(err.value).startswith(f"{path}:2: ") and message in str(err.value)
    assert "\n" not in str(err.value)
