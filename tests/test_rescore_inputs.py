"""``tracekd rescore`` inputs for every dataset (record fields, id only, raw fields) and pooled statistics."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from data_paths import DATA

from tracekd_ext.adapters import babi, get_spec
from tracekd_ext.cli import main
from tracekd_ext.errors import DataError
from tracekd_ext.record import Problem
from tracekd_ext.rescore import load_scored, summarize_files
from tracekd_ext.stats import PairCounts, phi
from tracekd_ext.trace_format import render_target, render_trace

SPLITS = {"cotemp": "test", "babi": "test", "marco": "all"}


def sample_generation(problem, variant: int) -> str:
    """0: correct trace and answer; 1: incorrect trace, right answer; 2: correct trace, wrong answer;
    3: the answer alone (no trace)."""
    spec = get_spec(problem.dataset)
    if variant == 0:
        return render_target(problem, spec, "correct")
    if variant == 1:
        return render_target(problem, spec, "incorrect")
    if variant == 2:
        return render_trace(spec, problem.label, problem.support_units, "zzzz")
    return render_target(problem, spec, "answer")


def _export(tmp_path: Path, dataset: str, n: int) -> list[dict]:
    out = tmp_path / f"{dataset}_records.jsonl"
    assert main(["data", "export", "--dataset", dataset, "--data-dir", str(DATA), "--split", SPLITS[dataset],
                 "--out", str(out)]) == 0
    return [json.loads(line) for line in out.read_text().splitlines()][:n]


def _predictions(tmp_path: Path, dataset: str, n: int, *, id_only: bool = False) -> tuple[Path, list[int]]:
    rows, variants = [], []
    for i, row in enumerate(_export(tmp_path, dataset, n)):
        variants.append(i % 4)
        generation = sample_generation(Problem.from_dict(row), i % 4)
        rows.append({"id": row["id"], "prediction": generation} if id_only else {**row, "prediction": generation})
    path = tmp_path / f"{dataset}{'_ids' if id_only else ''}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, variants


def _expected(variants: list[int]) -> PairCounts:
    return PairCounts(tt=variants.count(0), tf=variants.count(2), ft=variants.count(1) + variants.count(3), ff=0)


def test_record_fields_and_id_only_predictions_score_alike(tmp_path):
    for dataset in ("babi", "marco", "cotemp"):
        full, variants = _predictions(tmp_path, dataset, 24)
        ids, _ = _predictions(tmp_path, dataset, 24, id_only=True)
        with_records = load_scored(full)
        with_ids = load_scored(ids, data_dir=str(DATA))
        assert [i.score for i in with_ids.items] == [i.score for i in with_records.items]
        assert with_ids.task == f"{dataset}_trace"
        pairs = summarize_files([with_ids], replicates=100)["pairs"]["trace"]
        expected = _expected(variants)
        assert (pairs["tt"], pairs["tf"], pairs["ft"], pairs["ff"]) == (expected.tt, expected.tf, expected.ft, 0)


def test_unknown_id_is_a_clear_error(tmp_path):
    path = tmp_path / "p.jsonl"
    good = babi.load(DATA, "test")[0].id
    path.write_text(json.dumps({"id": good, "prediction": "x"}) + "\n"
                    + json.dumps({"id": "babi/qa1/test/0000", "prediction": "x"}) + "\n")
    with pytest.raises(DataError) as err:
        load_scored(path, data_dir=str(DATA))
    assert str(err.value).startswith(f"{path}:2: field 'id': unknown id 'babi/qa1/test/0000'")


def test_label_outside_the_label_set_is_a_clear_error(tmp_path):
    rows = _export(tmp_path, "babi", 2)
    rows[1]["label"] = "cooking"
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps({**r, "prediction": "x"}) + "\n" for r in rows))
    with pytest.raises(DataError, match=rf"^{path}:2: field 'label': 'cooking' is not a babi label"):
        load_scored(path)


def test_raw_field_predictions_for_babi_and_marco(tmp_path):
    story = "1 Mary went to the kitchen.\n2 John went to the garden.\n3 Where is Mary? \tkitchen\t1\n"
    marco_row = json.loads((DATA / "msmarco" / "v1.1_train_first50.jsonl").read_text().splitlines()[0])
    path = tmp_path / "raw.jsonl"
    path.write_text(json.dumps({"task": 1, "story": story, "prediction": "<answer>kitchen</answer>"}) + "\n")
    scored = load_scored(path, "babi_trace")
    assert scored.items[0].score.answer_correct and scored.items[0].problem.units[1] == "John went to the garden."
    path.write_text(json.dumps({**marco_row, "prediction": marco_row["answers"][0]}) + "\n")
    assert load_scored(path, "marco_direct").items[0].score.answer_correct


def test_pooled_statistics_are_the_sum_of_the_tasks(tmp_path):
    files, expected = [], PairCounts(0, 0, 0, 0)
    for dataset, n in (("cotemp", 21), ("babi", 30), ("marco", 17)):
        path, variants = _predictions(tmp_path, dataset, n)
        files.append(load_scored(path))
        e = _expected(variants)
        expected = PairCounts(expected.tt + e.tt, expected.tf + e.tf, expected.ft + e.ft, 0)
    direct, _ = _predictions(tmp_path, "babi", 8)
    files.append(load_scored(direct, "babi_direct"))  # direct tasks have no steps: not pooled
    summary = summarize_files(files, replicates=200)
    pooled, per_task = summary["pooled"], summary["per_task"]
    assert set(per_task) == {"cotemp_trace", "babi_trace", "marco_trace", "babi_direct"}
    assert pooled["n"] == 21 + 30 + 17
    trace = pooled["pairs"]["trace"]
    assert (trace["tt"], trace["tf"], trace["ft"], trace["ff"]) == (expected.tt, expected.tf, expected.ft, 0)
    for pair in ("trace", "cls", "ret"):
        for cell in ("tt", "tf", "ft", "ff"):
            assert pooled["pairs"][pair][cell] == sum(per_task[t]["pairs"][pair][cell] for t in
                                                      ("cotemp_trace", "babi_trace", "marco_trace"))
    assert math.isnan(trace["phi"]) or trace["phi"] == pytest.approx(phi(expected))
    answered = sum(per_task[t]["metrics"]["answer_acc"]["mean"] * per_task[t]["n"]
                   for t in ("cotemp_trace", "babi_trace", "marco_trace"))
    assert pooled["metrics"]["answer_acc"]["mean"] == pytest.approx(answered / pooled["n"])
    assert {label.split(":")[0] for label in pooled["by_label"]} == {"cotemp", "babi", "marco"}


def test_rescore_cli_with_data_dir(tmp_path, capsys):
    ids, _ = _predictions(tmp_path, "babi", 12, id_only=True)
    marco_file, _ = _predictions(tmp_path, "marco", 8)
    out = tmp_path / "summary.json"
    assert main(["rescore", str(ids), str(marco_file), "--data-dir", str(DATA), "--output", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert summary["pooled"]["n"] == 20 and set(summary["per_task"]) == {"babi_trace", "marco_trace"}
    assert "pooled over trace tasks" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "babi/qa1/test/ffff", "prediction": "x"}) + "\n")
    assert main(["rescore", str(bad), "--data-dir", str(DATA)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown id 'babi/qa1/test/ffff'" in err and f"{bad}:1" in err
