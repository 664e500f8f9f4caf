"""Issue 18 item 4, record and samples side: every malformed field of a record, a samples doc or an
intervention doc is one error line naming the file, the line and the field; nothing is coerced (``null``
never becomes the answer "None", ``1.7`` never index 1); one file holds one task's kind; the same run is
counted once; the correlational numbers beside interventions are read the way the rest of the command is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import one_line_error, run_cli
from report_fixtures import TIMESTAMP, cotemp_problems, samples_row, varied_generation, write_samples

from tracekd_ext.adapters import get_spec
from tracekd_ext.harness.task_hooks import make_doc
from tracekd_ext.harness.task_hooks import process_results as trace_results
from tracekd_ext.interventions.analysis import analyze
from tracekd_ext.interventions.task_hooks import make_intervention_doc, process_results
from tracekd_ext.rescore import load_scored, summarize_file

N = 8


@pytest.fixture(scope="module")
def problems(data_dir):
    return cotemp_problems(N)


def trace_rows(problems, scoring: str = "strict") -> list[dict]:
    return [samples_row(p, varied_generation(p, i), i, scoring) for i, p in enumerate(problems)]


def intervention_rows(problems, condition: str) -> list[dict]:
    rows = []
    for i, problem in enumerate(problems):
        doc = make_intervention_doc(problem, condition, instruction=True)
        answer = repr(list(problem.answers)) if i % 2 else "['nobody at all']"
        rows.append({"doc_id": i, "doc": doc, "resps": [[answer]], "filtered_resps": [answer],
                     **process_results(doc, [answer])})
    return rows


def samples_path(folder: Path, task: str) -> Path:
    return folder / f"samples_{task}_{TIMESTAMP}.jsonl"


def with_first_doc(rows: list[dict], **changes) -> list[dict]:
    first = json.loads(json.dumps(rows[0]))
    first["doc"].update(changes)
    return [first, *rows[1:]]


def rescore_error(capsys, *paths) -> str:
    code, _, err = run_cli(capsys, "rescore", *paths)
    assert code != 0
    return one_line_error(err)


BAD_RECORD_FIELDS = [
    ({"meta": "{notjson"}, "doc.meta", "not a JSON object: malformed JSON"),
    ({"meta": [1]}, "doc.meta", "expected an object (or a JSON string of one), got a list"),
    ({"meta": 5}, "doc.meta", "expected an object (or a JSON string of one), got an integer"),
    ({"meta": json.dumps({"triple_element": 5})}, "doc.meta.triple_element", "expected a string, got an integer"),
    ({"support": ["x"]}, "doc.support", 'expected a list of integers, got a string "x"'),
    ({"support": [None]}, "doc.support", "expected a list of integers, got null"),
    ({"support": [1.7]}, "doc.support", "expected a list of integers, got a number 1.7"),
    ({"support": [True]}, "doc.support", "expected a list of integers, got a boolean"),
    ({"support": [-1]}, "doc.support", "index -1 outside the units 0.."),
    ({"support": [99]}, "doc.support", "index 99 outside the units 0.."),
    ({"answers": [None]}, "doc.answers", "expected a list of strings, got null"),
    ({"units": "one unit"}, "doc.units", "expected a list, got a string"),
    ({"label": 3}, "doc.label", "expected a string, got an integer"),
    ({"label": "bogus"}, "doc.label", "'bogus' is not a cotemp label"),
    ({"kind": "bogus"}, "doc.kind", "expected one of trace, direct"),
    ({"scoring": ["paper"]}, "doc.scoring", "expected one of strict, paper, got [\"paper\"]"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_RECORD_FIELDS, ids=[f"{f}={c}" for c, f, _ in
                                                                                 BAD_RECORD_FIELDS])
def test_a_malformed_record_field_is_one_line_naming_file_line_and_field(tmp_path, capsys, problems, change, field,
                                                                         message):
    path = write_samples(samples_path(tmp_path, "cotemp_trace"), with_first_doc(trace_rows(problems), **change))
    line = rescore_error(capsys, path)
    assert line.startswith(f"tracekd rescore: error: {path}:1: field '{field}': {message}"), line


def test_predictions_with_record_fields_name_the_field_without_the_doc_prefix(tmp_path, capsys, problems):
    rows = [{**p.to_dict(), "prediction": "x"} for p in problems]
    rows[3]["answers"] = [None]
    path = tmp_path / "predictions.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert f"{path}:4: field 'answers': expected a list of strings, got null" in rescore_error(capsys, path)


@pytest.mark.parametrize(("text", "message"), [
    ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
    ('{"doc_id": ' + "7" * 5000 + "}", "unreadable JSON (Exceeds the limit (4300 digits)"),
], ids=["100k-deep", "5000-digit-int"])
def test_json_structure_beyond_pythons_limits_is_one_line(tmp_path, capsys, problems, text, message):
    rows = trace_rows(problems)
    path = samples_path(tmp_path, "cotemp_trace")
    path.write_text(json.dumps(rows[0]) + "\n" + text + "\n")
    assert f"{path}:2: {message}" in rescore_error(capsys, path)


def test_deep_nesting_inside_meta_is_one_line(tmp_path, capsys, problems):
    path = write_samples(samples_path(tmp_path, "cotemp_trace"),
                         with_first_doc(trace_rows(problems), meta="[" * 100_000 + "]" * 100_000))
    assert f"{path}:1: field 'doc.meta': not a JSON object: JSON nested too deeply" in rescore_error(capsys, path)


BAD_INTERVENTION_FIELDS = [
    ({"forced_support": ["x"]}, "doc.forced_support", "expected null or a list of unit indices"),
    ({"forced_support": 5}, "doc.forced_support", "expected null or a list of unit indices"),
    ({"forced_support": [999]}, "doc.forced_support", "index 999 outside the units 0.."),
    ({"gen_prefix": 5}, "doc.gen_prefix", "expected a string, got an integer"),
    ({"gen_prefix": None}, "doc.gen_prefix", "expected a string, got null"),
    ({"condition": ["gold"]}, "doc.condition", "expected a string, got a list"),
    ({"condition": "sideways"}, "doc.condition", "unknown condition 'sideways'"),
    ({"label": "bogus"}, "doc.label", "'bogus' is not a cotemp label"),
    ({"perturbed": "yes"}, "doc.perturbed", "expected true, false or null, got a string"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_INTERVENTION_FIELDS,
                         ids=[f"{f}={c}" for c, f, _ in BAD_INTERVENTION_FIELDS])
def test_a_malformed_intervention_doc_is_one_line_naming_the_field(tmp_path, capsys, problems, change, field,
                                                                   message):
    model = tmp_path / "model"
    gold = write_samples(samples_path(model, "cotemp_intervene_gold"),
                         with_first_doc(intervention_rows(problems, "gold"), **change))
    wrong = write_samples(samples_path(model, "cotemp_intervene_wrong_ret"), intervention_rows(problems, "wrong_ret"))
    line = rescore_error(capsys, gold, wrong)
    assert line.startswith(f"tracekd rescore: error: {gold}:1: field '{field}': {message}"), line


def test_a_file_mixing_trace_and_direct_samples_is_refused(tmp_path, capsys, problems):
    rows = trace_rows(problems[:3])
    doc = make_doc(problems[3], "direct", "strict", True)
    answer = repr(list(problems[3].answers))
    rows.append({"doc_id": 3, "doc": doc, "resps": [[answer]], "filtered_resps": [answer],
                 **trace_results(doc, [answer])})
    path = write_samples(tmp_path / "mixed.jsonl", rows)
    assert (f"{path}:4: field 'doc.kind': a direct sample does not belong to this file (line 1 is trace); a file "
            "holds one task's items") in rescore_error(capsys, path)
    named = write_samples(samples_path(tmp_path, "cotemp_trace"), rows)
    assert "does not belong to task 'cotemp_trace'" in rescore_error(capsys, named)


def test_report_given_the_same_run_twice_refuses_it(tmp_path, capsys, problems):
    folder = tmp_path / "model"
    trace = write_samples(samples_path(folder, "cotemp_trace"), trace_rows(problems))
    for runs in ([folder, folder], [tmp_path, trace]):
        code, _, err = run_cli(capsys, "report", *runs, "--out", tmp_path / "report")
        assert code != 0 and f"{trace}: given twice (by {runs[0]} and {runs[1]}); each run counts once" in \
            one_line_error(err)
    assert not (tmp_path / "report").exists()


@pytest.fixture
def intervention_run(tmp_path, problems) -> list[Path]:
    model = tmp_path / "model"
    return [write_samples(samples_path(model, f"cotemp_intervene_{c}"), intervention_rows(problems, c))
            for c in ("gold", "wrong_ret")]


def test_correlational_numbers_use_the_commands_scoring(tmp_path, problems, intervention_run):
    trace = write_samples(samples_path(tmp_path / "model", "cotemp_trace"), trace_rows(problems))
    for scoring in ("strict", "paper"):
        (run,) = analyze([*intervention_run, trace], replicates=50, scoring=scoring)["runs"]
        alone = summarize_file(load_scored(trace, scoring=scoring), 50)["pairs"]["trace"]
        assert run["correlational"]["phi"] == pytest.approx(alone["phi"], nan_ok=True), scoring
        assert run["correlational"]["n"] == alone["n"]
    strict, paper = (analyze([*intervention_run, trace], replicates=50, scoring=s)["runs"][0]["correlational"]
                     for s in ("strict", "paper"))
    assert (strict["n"], strict["phi"]) != (paper["n"], paper["phi"])  # the fixture's traces score differently


def test_a_trace_file_matching_no_intervention_run_is_named(tmp_path, capsys, problems, intervention_run):
    stray = write_samples(samples_path(tmp_path / "other-model", "cotemp_trace"), trace_rows(problems))
    line = rescore_error(capsys, *intervention_run, stray)
    assert f"{stray}: trace samples of model other-model on cotemp match no intervention run (runs: model on " \
           "cotemp" in line


def test_a_valid_record_round_trips(problems):
    spec = get_spec("cotemp")
    for problem in problems:
        assert type(problem).from_dict(problem.to_dict()) == problem
        assert problem.label in spec.labels


def test_raw_cotemp_fields_are_not_coerced(tmp_path, capsys, data_dir):
    row = json.loads((data_dir / "cotempqa" / "equal.jsonl").read_text().splitlines()[0])
    good = {**row, "label": "equal", "prediction": "x"}
    path = tmp_path / "raw.jsonl"
    for field, value in (("answer", [None]), ("facts", ["a fact", 5])):
        path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "index": 10**6, field: value}) + "\n")
        assert f"{path}:2: field '{field}': expected a list of strings, got" in rescore_error(capsys, path, "--task",
                                                                                              "cotemp_trace")
