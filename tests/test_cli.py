"""The tracekd CLI: data export, rescore of predictions files, and one-line errors on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from cli_helpers import run_cli

from tracekd_ext.cli import main


def raw_rows(data_dir, relation="equal", limit=20):
    lines = (data_dir / "cotempqa" / f"{relation}.jsonl").read_text(encoding="utf-8").splitlines()[:limit]
    return [dict(json.loads(line), label=relation) for line in lines]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_help_of_every_command(capsys):
    for command in (["--help"], ["rescore", "--help"], ["data", "export", "--help"]):
        with pytest.raises(SystemExit) as done:
            main(command)
        assert done.value.code == 0
    assert "--per-sample" in capsys.readouterr().out


def test_data_export_writes_records_with_prompt_and_target(tmp_path, capsys, data_dir):
    out = tmp_path / "export.jsonl"
    code, stdout, _ = run_cli(capsys, "data", "export", "--dataset", "cotemp", "--data-dir", data_dir,
                              "--split", "test", "--variant", "incorrect", "--out", out)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert code == 0 and len(rows) == 478 and "478" in stdout
    assert set(rows[0]) == {"id", "dataset", "label", "units", "question", "support", "answers", "meta", "prompt",
                            "target"}
    assert rows[0]["target"].startswith("<think>") and rows[0]["prompt"].startswith("Answer the question")


def test_rescore_raw_predictions_and_exported_records(tmp_path, capsys, data_dir):
    from tracekd_ext.adapters import get_spec
    from tracekd_ext.trace_format import render_target

    spec = get_spec("cotemp")
    rows = raw_rows(data_dir)
    problems = [spec.from_raw(r, line=i + 1) for i, r in enumerate(rows)]
    for row, problem in zip(rows, problems, strict=True):
        row["prediction"] = render_target(problem, spec, "correct")
    rows[0]["prediction"] = "<think>nothing useful</think> <answer>['nobody']</answer>"
    preds = write_jsonl(tmp_path / "preds.jsonl", rows)
    summary_path, per_sample = tmp_path / "summary.json", tmp_path / "per_sample.jsonl"
    code, out, _ = run_cli(capsys, "rescore", preds, "--task", "cotemp_trace", "--output", summary_path,
                           "--per-sample", per_sample)
    summary = json.loads(summary_path.read_text())
    assert code == 0 and "trace vs answer" in out
    assert summary["n"] == 20 and summary["metrics"]["answer_acc"]["mean"] == pytest.approx(19 / 20)
    assert summary["pairs"]["trace"]["tt"] == 19 and summary["pairs"]["trace"]["ff"] == 1
    assert set(summary["by_label"]) == {"equal"}
    assert len(per_sample.read_text().splitlines()) == 20

    records = [dict(p.to_dict(), prediction=r["prediction"]) for p, r in zip(problems, rows, strict=True)]
    code, _, _ = run_cli(capsys, "rescore", write_jsonl(tmp_path / "records.jsonl", records), "--task",
                         "cotemp_trace", "--output", tmp_path / "s2.json")
    assert code == 0 and json.loads((tmp_path / "s2.json").read_text())["metrics"] == summary["metrics"]


def test_malformed_line_is_one_line_error_naming_file_and_line(tmp_path, capsys, data_dir):
    rows = raw_rows(data_dir, limit=3)
    for r in rows:
        r["prediction"] = "x"
    path = tmp_path / "preds.jsonl"
    path.write_text(json.dumps(rows[0]) + "\n" + "{not json\n" + json.dumps(rows[1]) + "\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "rescore", path, "--task", "cotemp_trace")
    assert code == 2 and f"{path}:2: malformed JSON" in err and len(err.strip().splitlines()) == 1


def test_record_missing_facts_names_the_field(tmp_path, capsys, data_dir):
    row = raw_rows(data_dir, limit=1)[0]
    del row["facts"]
    row["prediction"] = "x"
    path = write_jsonl(tmp_path / "preds.jsonl", [row])
    code, _, err = run_cli(capsys, "rescore", path, "--task", "cotemp_trace")
    assert code == 2 and f"{path}:1: field 'facts': missing" in err


def test_unknown_task_and_missing_data_dir(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["rescore", "x.jsonl", "--task", "no_such_task"])
    assert done.value.code == 2 and "invalid choice: 'no_such_task'" in capsys.readouterr().err
    code, _, err = run_cli(capsys, "data", "export", "--dataset", "cotemp", "--data-dir", tmp_path / "missing",
                           "--out", tmp_path / "x.jsonl")
    assert code == 2 and "data directory not found" in err and not (tmp_path / "x.jsonl").exists()
    code, _, err = run_cli(capsys, "rescore", tmp_path / "absent.jsonl")
    assert code == 2 and "no such file" in err


def test_console_script_errors_have_no_traceback(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("[1, 2]\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "tracekd_ext.cli", "rescore", str(bad), "--task", "cotemp_trace"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{bad}:1: expected a JSON object" in done.stderr
