"""Issue 18 item 4, outputs and inputs of the wrong kind: ``--out -`` is standard output (never a file named
``-``), SIGTERM removes the staged temporary files as Ctrl-C does, and an aggregates JSON given to
``tracekd rescore`` says which file to pass instead."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli_helpers import one_line_error, run_cli
from report_fixtures import TIMESTAMP, cotemp_problems, samples_row, varied_generation, write_samples


def trace_samples(folder: Path, n: int = 8) -> Path:
    rows = [samples_row(p, varied_generation(p, i), i) for i, p in enumerate(cotemp_problems(n))]
    return write_samples(folder / f"samples_cotemp_trace_{TIMESTAMP}.jsonl", rows)


def test_data_export_to_standard_output(tmp_path, capsys, data_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "data", "export", "--dataset", "cotemp", "--data-dir", data_dir, "--out", "-")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and rows and all(r["dataset"] == "cotemp" for r in rows)
    assert f"wrote {len(rows)} cotemp test records (correct) to standard output" in err
    assert not (tmp_path / "-").exists()


def test_rescore_summary_to_standard_output_puts_the_tables_on_standard_error(tmp_path, capsys, data_dir,
                                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    samples = trace_samples(tmp_path)
    code, out, err = run_cli(capsys, "rescore", samples, "--output", "-")
    assert code == 0 and json.loads(out)["n"] == 8 and "trace vs answer" in err
    assert not (tmp_path / "-").exists()
    code, out, err = run_cli(capsys, "rescore", samples, "--output", "-", "--per-sample", "-")
    assert code == 2 and "-: the same file as the output -" in one_line_error(err)
    code, _, err = run_cli(capsys, "report", samples, "--out", "-")
    assert code == 2 and "standard output cannot hold a folder" in one_line_error(err)


def test_an_lm_eval_results_file_names_the_samples_file_to_pass(tmp_path, capsys, data_dir):
    samples = trace_samples(tmp_path)
    results = tmp_path / f"results_{TIMESTAMP}.json"
    results.write_text(json.dumps({"results": {"cotemp_trace": {"answer_acc,none": 0.5}}, "config": {}}, indent=2))
    code, _, err = run_cli(capsys, "rescore", results)
    assert code == 2 and one_line_error(err).endswith(
        f"{results}: an lm-eval results file (aggregates, no generations); pass the samples_<task>_<date>.jsonl "
        "beside it (lm_eval --log_samples writes it)")
    summary = tmp_path / "summary.json"
    assert run_cli(capsys, "rescore", samples, "--output", summary)[0] == 0
    code, _, err = run_cli(capsys, "rescore", summary)
    assert code == 2 and "a tracekd rescore --output summary (aggregates, no generations)" in one_line_error(err)


def test_sigterm_removes_the_staged_temporary_files(tmp_path, data_dir):
    """A ``timeout`` or scheduler kill mid-command leaves no ``.out.json.*.tmp`` behind (as SIGINT does)."""
    lines = trace_samples(tmp_path).read_text().splitlines()
    big = tmp_path / "big.jsonl"
    big.write_text("\n".join(lines * 2000) + "\n")  # seconds of scoring after the output is staged
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "TRACEKD_DATA_DIR": str(data_dir)}
    process = subprocess.Popen([sys.executable, "-m", "tracekd_ext.cli", "rescore", str(big), "--task", "cotemp_trace",
                                "--output", str(out / "summary.json")], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(out.iterdir()) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    staged = list(out.iterdir())
    assert staged and staged[0].name.startswith(".summary.json.") and process.poll() is None, staged
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM and "Traceback" not in err, err
    assert list(out.iterdir()) == []
