"""Writing files (issue 9, section 4): every command writes through ``tracekd_ext.files.outputs``. Device files,
FIFOs and symlinks are never replaced, temporary files are unpredictable and never followed through a
planted link, new files respect the umask, an output is never an input or another output, and a failed
command leaves no partial output."""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
from pathlib import Path

import pytest
from cli_helpers import one_line_error, run_cli

from tracekd_ext.errors import OutputError
from tracekd_ext.files.outputs import Outputs

TASK = ["--task", "cotemp_trace"]


@pytest.fixture(scope="module")
def good(tmp_path_factory, data_dir) -> Path:
    """A predictions file of 20 CoTemp records with their gold traces as predictions."""
    from tracekd_ext.adapters import get_spec
    from tracekd_ext.trace_format import render_target

    spec = get_spec("cotemp")
    problems = list(spec.load(data_dir, "test"))[:20]
    path = tmp_path_factory.mktemp("inputs") / "good.jsonl"
    path.write_text("".join(json.dumps({**p.to_dict(), "prediction": render_target(p, spec, "correct")}) + "\n"
                            for p in problems), encoding="utf-8")
    return path




# --- non-regular targets -------------------------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0 or not Path("/dev/full").is_char_device(),
                    reason="replacing /dev/full needs root and /dev/full")
def test_rescore_output_dev_full_as_root_stays_a_device_and_fails_in_one_line(capsys, good):
    code, _, err = run_cli(capsys, "rescore", good, *TASK, "--output", "/dev/full")
    assert code == 2 and "/dev/full" in one_line_error(err) and "No space left" in err
    assert Path("/dev/full").is_char_device()


def test_output_to_a_fifo_is_written_into_the_fifo(tmp_path, capsys, good):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    code, _, _ = run_cli(capsys, "rescore", good, *TASK, "--output", fifo)
    reader.join(timeout=30)
    assert code == 0 and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received[0])["task"] == "cotemp_trace"


def test_output_through_a_symlink_replaces_the_file_it_points_to_and_keeps_the_link(tmp_path, capsys, good):
    target = tmp_path / "real.json"
    target.write_text("old\n")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    code, _, _ = run_cli(capsys, "rescore", good, *TASK, "--output", link)
    assert code == 0 and link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text())["task"] == "cotemp_trace"


def test_output_through_a_dangling_symlink_is_refused(tmp_path, capsys, good):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    code, _, err = run_cli(capsys, "rescore", good, *TASK, "--output", link)
    assert code == 2 and "symbolic link" in one_line_error(err)
    assert link.is_symlink() and not (tmp_path / "elsewhere.json").exists()


# --- temporary files -----------------------------------------------------------------------------------

def test_report_never_writes_through_a_planted_temporary_name(tmp_path, capsys, good):
    out = tmp_path / "report"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    for name in ("report.md", "report.json", "report.html", "answer_accuracy.png"):  # the old predictable names
        (out / f".{name}.{os.getpid()}.tmp").symlink_to(victim)
    code, _, _ = run_cli(capsys, "report", good, "--out", out)
    assert code == 0 and victim.read_text() == "precious\n"
    assert (out / "report.md").is_file() and not (out / "report.md").is_symlink()


def test_temporary_files_are_unpredictable_exclusive_and_in_the_targets_folder(tmp_path):
    names = []
    for _ in range(2):
        outputs = Outputs()
        outputs.claim(tmp_path / "out.json")
        names += [p.name for p in tmp_path.iterdir()]
        outputs.discard()
    assert len(set(names)) == 2 and all(n.startswith(".out.json.") for n in names)
    assert not list(tmp_path.iterdir())


# --- permissions ---------------------------------------------------------------------------------------

@pytest.fixture
def umask_002():
    old = os.umask(0o002)
    yield 0o664
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_rescore_and_data_export_respect_the_umask(tmp_path, capsys, good, data_dir, umask_002):
    summary, per_sample, export = tmp_path / "s.json", tmp_path / "p.jsonl", tmp_path / "e.jsonl"
    assert run_cli(capsys, "rescore", good, *TASK, "--output", summary, "--per-sample", per_sample)[0] == 0
    assert run_cli(capsys, "data", "export", "--dataset", "cotemp", "--data-dir", data_dir, "--out", export)[0] == 0
    assert mode(summary) == mode(per_sample) == mode(export) == umask_002


def test_train_run_files_and_teacher_traces_respect_the_umask(tmp_path, umask_002):
    from tracekd_ext.files.outputs import write_file, write_json  # what train/trainer.py writes run.json with
    from tracekd_train import teacher

    write_json(tmp_path / "run.json", {"a": 1})
    write_file(tmp_path / "dataset.jsonl", "{}\n")
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"doc": {"id": "x"}, "filtered_resps": ["<think>t</think><answer>a</answer>"]})
                       + "\n")
    assert teacher.main([str(samples), "--out", str(tmp_path / "traces.jsonl")]) == 0
    assert {mode(tmp_path / n) for n in ("run.json", "dataset.jsonl", "traces.jsonl")} == {umask_002}


def test_an_existing_file_keeps_its_mode(tmp_path, capsys, good):
    out = tmp_path / "s.json"
    out.write_text("{}")
    out.chmod(0o640)
    assert run_cli(capsys, "rescore", good, *TASK, "--output", out)[0] == 0
    assert mode(out) == 0o640 and json.loads(out.read_text())["task"] == "cotemp_trace"


# --- outputs that are inputs or each other -------------------------------------------------------------

def test_per_sample_equal_to_the_input_is_refused_and_the_input_kept(tmp_path, capsys, good):
    copy = tmp_path / "preds.jsonl"
    copy.write_bytes(good.read_bytes())
    for spelling in (copy, tmp_path / "." / "preds.jsonl"):
        code, _, err = run_cli(capsys, "rescore", copy, *TASK, "--per-sample", spelling)
        assert code == 2 and "input" in one_line_error(err)
    assert copy.read_bytes() == good.read_bytes()


def test_per_sample_equal_to_output_is_refused(tmp_path, capsys, good):
    out = tmp_path / "o.json"
    code, _, err = run_cli(capsys, "rescore", good, *TASK, "--output", out, "--per-sample", out)
    assert code == 2 and "same file as the output" in one_line_error(err) and not out.exists()
    link = tmp_path / "also_o.json"
    out.write_text("{}")
    link.symlink_to(out)
    code, _, err = run_cli(capsys, "rescore", good, *TASK, "--output", out, "--per-sample", link)
    assert code == 2 and out.read_text() == "{}"


def test_report_output_equal_to_an_input_is_refused(tmp_path, capsys, good):
    rescored = tmp_path / "report.json"
    assert run_cli(capsys, "rescore", good, *TASK, "--output", rescored)[0] == 0
    before = rescored.read_bytes()
    code, _, err = run_cli(capsys, "report", rescored, "--out", tmp_path)
    assert code == 2 and "input" in one_line_error(err) and rescored.read_bytes() == before


# --- all outputs or none -------------------------------------------------------------------------------

def test_rescore_failing_on_per_sample_leaves_no_output(tmp_path, capsys, good):
    out, folder = tmp_path / "o.json", tmp_path / "a_folder"
    folder.mkdir()
    code, stdout, err = run_cli(capsys, "rescore", good, *TASK, "--output", out, "--per-sample", folder)
    assert code == 2 and "a_folder" in one_line_error(err) and not out.exists() and not stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_folder"]  # no temporary file left either
    out.write_text("previous\n")
    assert run_cli(capsys, "rescore", good, *TASK, "--output", out, "--per-sample", folder)[0] == 2
    assert out.read_text() == "previous\n"


def test_report_failing_on_the_html_leaves_no_file(tmp_path, capsys, good, monkeypatch):
    import tracekd_ext.report.build as build

    def broken_html(**_):
        raise OutputError("simulated failure while writing the HTML")

    previous = tmp_path / "old"
    assert run_cli(capsys, "report", good, "--out", previous)[0] == 0
    before = {p.name: p.read_bytes() for p in previous.iterdir()}
    monkeypatch.setattr(build, "report_html", broken_html)
    for out in (tmp_path / "new" / "report", previous):
        code, _, err = run_cli(capsys, "report", good, "--out", out, "--title", "changed")
        assert code == 2 and "simulated" in one_line_error(err)
    assert not (tmp_path / "new").exists()  # the folders it created are gone too
    assert {p.name: p.read_bytes() for p in previous.iterdir()} == before


def test_outputs_commit_together_or_not_at_all(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    with pytest.raises(RuntimeError), Outputs() as outputs:
        outputs.write(first, "a")
        outputs.write(second, "b")
        raise RuntimeError("the command failed after staging")
    assert list(tmp_path.iterdir()) == []
    with Outputs() as outputs:
        outputs.write(first, "a")
        outputs.write(second, "b")
    assert first.read_text() + second.read_text() == "ab"


@pytest.mark.skipif(sys.platform != "linux", reason="uses a FIFO and /dev/full semantics")
def test_a_failing_direct_write_keeps_the_staged_files_out(tmp_path):
    if not Path("/dev/full").is_char_device():
        pytest.skip("no /dev/full")
    with pytest.raises(OutputError, match="/dev/full"), Outputs() as outputs:
        outputs.write(tmp_path / "a.txt", "a")
        outputs.write("/dev/full", "b")
    assert list(tmp_path.iterdir()) == []
