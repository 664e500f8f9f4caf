"""Strict JSON everywhere (issue 18, item 3): an undefined statistic is null in every file tracekd or its tasks
make lm-eval write, lm-eval's printed table survives it, and ``trace_answer_tt`` carries a stderr."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from cli_helpers import run_cli

from tracekd_ext.files.outputs import json_text, jsonl_text
from tracekd_ext.harness.task_hooks import pair_chi2, pair_fisher_p, pair_phi

UNDEFINED_PAIR_METRICS = ("trace_answer_phi", "trace_answer_chi2", "cls_answer_phi", "ret_answer_phi")


def refuse_non_finite(constant: str):
    raise ValueError(f"non-finite number {constant} in JSON")


def strict_load(text: str):
    """json.loads as JavaScript, jq, Go or serde read JSON: NaN and Infinity are errors."""
    return json.loads(text, parse_constant=refuse_non_finite)


def strict_load_file(path: Path) -> list:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines() if path.suffix == ".jsonl" else [text]
    return [strict_load(line) for line in lines if line.strip()]


def test_the_strict_parser_refuses_what_python_writes_by_default():
    with pytest.raises(ValueError, match="NaN"):
        strict_load(json.dumps({"phi": math.nan}))


def test_undefined_pair_statistics_are_none():
    all_wrong = [[0, 0]] * 5  # the answer column and the step row are both empty
    assert pair_phi(all_wrong) is None and pair_chi2(all_wrong) is None and pair_fisher_p(all_wrong) == 1.0
    assert pair_phi([[1, 1], [0, 0], None]) == pytest.approx(1.0)  # None: an item the step does not cover


def test_tracekds_writers_write_null_for_non_finite_numbers():
    values = {"phi": math.nan, "chi2": math.inf, "ci": [-math.inf, 0.5], "n": 3}
    assert strict_load(json_text(values)) == {"phi": None, "chi2": None, "ci": [None, 0.5], "n": 3}
    assert strict_load(jsonl_text([values]).strip())["ci"] == [None, 0.5]


@pytest.mark.slow  # lm-eval indexes its own task folders (tens of seconds on a shared CPU)
def test_every_output_of_a_degenerate_run_is_strict_json(capsys, tmp_path):
    """lm-eval's dummy model answers "lol" to every prompt: every trace and answer is wrong, so each 2x2 table
    has an empty row and column and phi and chi-square are undefined."""
    tasks = "cotemp_synth_trace,cotemp_synth_intervene_gold"
    code, out, err = run_cli(capsys, "eval", "--model", "dummy", "--tasks", tasks, "--limit", "4",
                             "--output_path", tmp_path, "--log_samples")
    assert code == 0, err
    files = sorted(tmp_path.rglob("*.json*"))
    assert [f.name.split("_")[0] for f in files].count("samples") == 2 and len(files) == 3
    for path in files:
        strict_load_file(path)
    (results_file,) = [f for f in files if f.name.startswith("results_")]
    results = strict_load_file(results_file)[0]["results"]["cotemp_synth_trace"]
    for name in UNDEFINED_PAIR_METRICS:
        assert results[f"{name},none"] is None and results[f"{name}_stderr,none"] == "N/A", name
    # the TT share is a mean of 0/1 flags with lm-eval's closed-form stderr, like the other means
    assert results["trace_answer_tt,none"] == 0.0 and isinstance(results["trace_answer_tt_stderr,none"], float)
    # lm-eval's printed table: an undefined value is an empty cell beside an N/A stderr
    row = next(line for line in out.splitlines() if "|trace_answer_phi" in line)
    assert row.replace(" ", "").endswith("|↑||±|N/A|")
