"""One error rule for every command (issue 9, section 6): user-caused errors are one line naming the file,
line or field with a non-zero exit; unexpected errors keep their traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import one_line_error, run_cli

from tracekd_ext.cli import main
from tracekd_ext.errors import DataError

TASK = ["--task", "cotemp_trace"]
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"


@pytest.fixture(scope="module")
def records(data_dir) -> list[dict]:
    """20 CoTemp records with their gold traces as predictions."""
    from tracekd_ext.adapters import get_spec
    from tracekd_ext.trace_format import render_target

    spec = get_spec("cotemp")
    return [{**p.to_dict(), "prediction": render_target(p, spec, "correct")}
            for p in list(spec.load(data_dir, "test"))[:20]]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def good(tmp_path, records) -> Path:
    return write_jsonl(tmp_path / "good.jsonl", records)




# --- unreadable input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["rescore", "report"])
def test_binary_input_is_one_line_naming_file_and_line(tmp_path, capsys, command):
    binary = tmp_path / "samples_cotemp_trace_2026-01-01T00-00-00.000000.jsonl"
    binary.write_bytes(BINARY)
    extra = TASK if command == "rescore" else ["--out", tmp_path / "r"]
    code, _, err = run_cli(capsys, command, binary, *extra)
    assert code == 2 and f"{binary}:1: not UTF-8" in one_line_error(err)


def test_non_utf8_input_names_the_line(tmp_path, capsys, records):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(records[0]).encode() + b"\n" + '{"prediction": "caf\u00e9"}\n'.encode("latin-1"))
    code, _, err = run_cli(capsys, "rescore", path, *TASK)
    assert code == 2 and f"{path}:2: not UTF-8 text (byte 0xe9" in one_line_error(err)


def test_binary_rescore_json_given_to_report_is_one_line(tmp_path, capsys):
    binary = tmp_path / "summary.json"
    binary.write_bytes(BINARY)
    code, _, err = run_cli(capsys, "report", binary, "--out", tmp_path / "r")
    assert code == 2 and f"{binary}:1: not UTF-8" in one_line_error(err)


def test_binary_train_config_is_one_line(tmp_path, capsys):
    binary = tmp_path / "run.yaml"
    binary.write_bytes(BINARY)
    code, _, err = run_cli(capsys, "train", "--config", binary, "--model_name_or_path", "m", "--output-dir",
                           tmp_path / "run")
    assert code == 2 and f"{binary}:1: not UTF-8" in one_line_error(err)


def test_input_that_is_a_folder_is_one_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, "rescore", tmp_path, *TASK)
    assert code == 2 and str(tmp_path) in one_line_error(err)


# --- unwritable outputs --------------------------------------------------------------------------------

def test_rescore_output_that_is_a_folder_or_under_a_file(tmp_path, capsys, good):
    code, _, err = run_cli(capsys, "rescore", good, *TASK, "--output", tmp_path)
    assert code == 2 and "a folder" in one_line_error(err)
    code, _, err = run_cli(capsys, "rescore", good, *TASK, "--output", good / "o.json")
    assert code == 2 and "o.json: cannot write (Not a directory)" in one_line_error(err)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_rescore_output_in_a_read_only_folder(tmp_path, capsys, good):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = run_cli(capsys, "rescore", good, *TASK, "--output", locked / "o.json")
    assert code == 2 and "Permission denied" in one_line_error(err)


def test_report_out_that_is_a_file(tmp_path, capsys, good):
    code, _, err = run_cli(capsys, "report", good, "--out", good)
    assert code == 2 and "not a folder" in one_line_error(err)


def test_data_export_out_that_is_a_folder(tmp_path, capsys, data_dir):
    code, _, err = run_cli(capsys, "data", "export", "--dataset", "cotemp", "--data-dir", data_dir, "--out", tmp_path)
    assert code == 2 and "a folder" in one_line_error(err)


def test_train_output_dir_that_is_a_file(tmp_path, capsys, good):
    code, _, err = run_cli(capsys, "train", "--model_name_or_path", "m", "--output-dir", good)
    assert code == 2 and "--output-dir" in one_line_error(err) and "not a folder" in err


def test_demo_out_that_is_a_file(tmp_path, capsys, good):
    code, _, err = run_cli(capsys, "demo", "--out", good)
    assert code == 2 and "not a folder" in one_line_error(err)


# --- closed standard output ----------------------------------------------------------------------------

def test_rescore_into_a_closed_pipe_writes_the_output_without_a_traceback(tmp_path, good):
    """``tracekd rescore ... --output o.json | head -1``, with the reader gone before rescore prints."""
    out = tmp_path / "o.json"
    proc = subprocess.Popen([sys.executable, "-m", "tracekd_ext.cli", "rescore", str(good), *TASK, "--output",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert json.loads(out.read_text())["task"] == "cotemp_trace"


def test_rescore_piped_to_head(tmp_path, good):
    out = tmp_path / "o.json"
    result = subprocess.run(f"{sys.executable} -m tracekd_ext.cli rescore {good} --task cotemp_trace "
                            f"--output {out} | head -1", shell=True, capture_output=True, text=True, timeout=120)
    assert result.stdout.startswith("cotemp_trace") and "Traceback" not in result.stderr, result.stderr
    assert out.is_file()


# --- text that no UTF-8 file can hold ------------------------------------------------------------------

def test_lone_surrogate_is_scored_rendered_and_written_as_a_replacement_character(tmp_path, capsys, records):
    rows = [dict(r) for r in records]
    rows[0]["prediction"] = "<think>\ud800</think> <answer>['\ud800']</answer>"
    preds = write_jsonl(tmp_path / "preds.jsonl", rows)  # json.dumps escapes it as \ud800
    assert "\\ud800" in preds.read_text()
    per_sample = tmp_path / "per_sample.jsonl"
    code, _, err = run_cli(capsys, "rescore", preds, *TASK, "--per-sample", per_sample)
    assert code == 0, err
    first = json.loads(per_sample.read_text(encoding="utf-8").splitlines()[0])
    assert first["prediction"] == "<think>\ufffd</think> <answer>['\ufffd']</answer>" and not first["answer_correct"]
    code, _, err = run_cli(capsys, "report", preds, "--out", tmp_path / "report")
    assert code == 0, err
    assert "\\ufffd" in (tmp_path / "report" / "report.html").read_text(encoding="utf-8").lower() or \
        "\ufffd" in (tmp_path / "report" / "report.html").read_text(encoding="utf-8")


# --- labels and titles ---------------------------------------------------------------------------------

def test_run_label_with_dollars_is_drawn_literally(tmp_path, capsys, good):
    code, _, err = run_cli(capsys, "report", good, "--out", tmp_path / "r", "--name", f"{good}=x=$\\bad{{x}}$")
    assert code == 0, err
    assert (tmp_path / "r" / "answer_accuracy.png").stat().st_size > 0


def test_report_md_escapes_raw_html_from_title_and_labels(tmp_path, capsys, good):
    code, _, err = run_cli(capsys, "report", good, "--out", tmp_path / "r", "--title", "<script>alert(1)</script>",
                           "--name", f"{good}=<img src=x onerror=alert(2)>")
    assert code == 0, err
    markdown = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in markdown and "<img" not in markdown
    assert "# &lt;script>alert(1)&lt;/script>" in markdown and "&lt;img src=x onerror=alert(2)>" in markdown


# --- training inputs -----------------------------------------------------------------------------------

def test_binary_teacher_traces_is_one_line(tmp_path, capsys):
    from tracekd_train.teacher import load_teacher_traces
    from tracekd_train.teacher import main as teacher_main

    binary = tmp_path / "traces.jsonl"
    binary.write_bytes(BINARY)
    with pytest.raises(DataError, match=r"traces.jsonl:1: not UTF-8"):
        load_teacher_traces(binary)
    assert teacher_main([str(binary), "--out", str(tmp_path / "t.jsonl")]) == 2
    assert "not UTF-8" in one_line_error(capsys.readouterr().err)


@pytest.mark.slow  # builds a tiny tokenizer and model
def test_binary_teacher_traces_through_tracekd_train(tmp_path, capsys, data_dir):
    from train_helpers import tiny_model

    binary = tmp_path / "traces.jsonl"
    binary.write_bytes(BINARY)
    model = tiny_model(tmp_path / "model", problems=10)
    capsys.readouterr()  # the model build's progress bars
    code, _, err = run_cli(capsys, "train", "--model_name_or_path", model, "--data-dir", data_dir, "--limit", "3",
                           "--dry-run", "--variant", "teacher", "--teacher-traces", binary)
    assert code == 2 and f"{binary}:1: not UTF-8" in one_line_error(err)


# --- the rule itself -----------------------------------------------------------------------------------

def test_unexpected_errors_keep_their_traceback(monkeypatch):
    import tracekd_ext.commands.rescore as rescore

    def bug(args):
        raise ZeroDivisionError("a bug, not the user's fault")

    monkeypatch.setattr(rescore, "run", bug)
    with pytest.raises(ZeroDivisionError):
        main(["rescore", "x.jsonl"])


@pytest.mark.slow  # lm-eval indexes its own task folders (about 40 s on a shared CPU)
def test_eval_unknown_task_is_one_line(capsys):
    code = main(["eval", "--model", "dummy", "--tasks", "no_such_tracekd_task"])
    err = capsys.readouterr().err
    assert code == 2 and "no_such_tracekd_task" in err.strip().splitlines()[-1] and "Traceback" not in err
