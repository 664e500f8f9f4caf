"""``tracekd report`` on predictions JSONL (generations from elsewhere): the full report, browser included."""

from __future__ import annotations

import json
import re

import pytest
from data_paths import DATA

from tracekd_ext.cli import main as cli_main
from tracekd_ext.files.read import read_jsonl

pytestmark = pytest.mark.usefixtures("data_dir")  # the offline data copy: skipped without it, failed under CI


def _raw_cotemp_predictions(path, n=9):
    """Raw CoTemp rows (the dataset's own fields plus the relation label) with hand-made generations: the
    gold answer after a role header, a bare wrong answer, and a traced answer."""
    rows = []
    for line, row in read_jsonl(DATA / "cotempqa" / "equal.jsonl"):
        if len(rows) == n:
            break
        answer = row["answer"][0]
        traced = f"<think>x</think> <answer>{row['answer']!r}</answer>"
        prediction = [f"assistant\n\n{answer}", "Nobody", traced][line % 3]
        rows.append({**row, "label": "equal", "prediction": prediction})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def _browser_payload(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_report_on_predictions_jsonl_shows_every_item(tmp_path):
    predictions = tmp_path / "predictions.jsonl"
    rows = _raw_cotemp_predictions(predictions)
    out = tmp_path / "R"
    assert cli_main(["report", str(predictions), "--task", "cotemp_trace", "--out", str(out)]) == 0
    payload = _browser_payload((out / "report.html").read_text(encoding="utf-8"))
    assert payload["tasks"] == ["cotemp_trace"] and payload["aggregateOnly"] == []
    (group,) = payload["groups"]
    assert len(group["samples"]) == len(rows) == len(payload["problems"])
    summary = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert "cotemp_trace" in json.dumps(summary) and str(len(rows)) in (out / "report.md").read_text()


def test_report_on_id_only_predictions_reads_the_data_dir(tmp_path):
    from tracekd_ext.adapters import get_spec

    problems = get_spec("cotemp").load(DATA, "test")[:5]
    predictions = tmp_path / "ids.jsonl"
    predictions.write_text("".join(json.dumps({"id": p.id, "prediction": p.answers[0]}) + "\n" for p in problems))
    out = tmp_path / "R"
    assert cli_main(["report", str(predictions), "--task", "cotemp_direct", "--data-dir", str(DATA),
                     "--out", str(out)]) == 0
    (group,) = _browser_payload((out / "report.html").read_text(encoding="utf-8"))["groups"]
    assert len(group["samples"]) == 5
