"""tracekd report with intervention samples (``<dataset>_intervene_<condition>``) from real lm-eval runs of
scripted LMs, alone and mixed with free-generation trace samples: the Interventions section (report.md,
report.json, report.html) equals ``tracekd rescore`` on the same samples, the sample browser shows the forced
trace beside the answer and filters by condition in a real headless browser, and bad input is one error."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

import pytest
from report_browser import report_page
from report_fixtures import (
    answer_from_gold,
    copy_from_forced_units,
    cotemp_problems,
    run_scripted_lm_eval,
    varied_generation,
    write_run_folder,
)
from test_report import markdown_tables

from tracekd_ext.cli import main as cli_main
from tracekd_ext.errors import TracekdError
from tracekd_ext.interventions.conditions import CONDITIONS
from tracekd_ext.report import build_report

INTERVENE = "cotemp_synth_intervene"
TRACE = "cotemp_synth_trace"
LIMIT = 12


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="module")
def scripted(tmp_path_factory) -> dict[str, Path]:
    """Real simple_evaluate runs: ``copier`` (follows the forced units) on the intervention group and the
    free-generation trace task, ``ignorer`` (answers regardless of the trace) on the intervention group only,
    and ``cotemp-only``, a free-generation CoTemp run of another model written as lm-eval writes it."""
    root = tmp_path_factory.mktemp("scripted")
    run_scripted_lm_eval(root / "out" / "copier", copy_from_forced_units, [INTERVENE, TRACE], LIMIT)
    run_scripted_lm_eval(root / "out" / "ignorer", answer_from_gold, [INTERVENE], LIMIT)
    problems = cotemp_problems(10)
    write_run_folder(root / "cotemp-only", problems, [varied_generation(p, i) for i, p in enumerate(problems)],
                     pretrained="cotemp-only")
    return {"root": root, "copier": root / "out" / "copier", "ignorer": root / "out" / "ignorer",
            "cotemp": root / "cotemp-only"}


@pytest.fixture(scope="module")
def report_dir(scripted, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    assert cli_main(["report", str(scripted["root"] / "out"), str(scripted["cotemp"]), "--out", str(out),
                     "--jobs", "1"]) == 0
    return out


def rescore(files: list[Path], tmp_path: Path, capsys) -> tuple[dict, str]:
    """``tracekd rescore`` on the files: its --output JSON and what it printed."""
    out = tmp_path / f"rescore_{len(list(tmp_path.glob('rescore_*')))}.json"
    capsys.readouterr()
    assert cli_main(["rescore", *map(str, files), "--output", str(out)]) == 0
    return json.loads(out.read_text()), capsys.readouterr().out


def html_rows(cells: list[str]) -> str:
    return "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"


def test_interventions_section_equals_rescore(scripted, report_dir, tmp_path, capsys):
    report = json.loads((report_dir / "report.json").read_text())
    text = (report_dir / "report.md").read_text()
    page = (report_dir / "report.html").read_text()
    section = text[text.index("## Interventions"):text.index("## Figures")]
    by_model = {run["model"]: run for run in report["interventions"]["runs"]}
    assert set(by_model) == {"copier", "ignorer"}  # the free-generation CoTemp run has no interventions
    for model in ("copier", "ignorer"):
        files = sorted(scripted[model].glob("samples_*.jsonl"))
        expected, printed = rescore(files, tmp_path, capsys)
        (run,) = expected["runs"]
        assert by_model[model] == run  # report.json: every number, the reading and the correlational ones
        assert printed.strip() in section  # report.md: the tables and readings exactly as rescore prints them
        for line in printed.splitlines():
            if line.startswith("| ") and not line.startswith("| condition"):
                assert html_rows([c.strip() for c in line.strip("|").split("|")]) in page
        assert html.escape(run["reading"]) in page
    copier = by_model["copier"]
    assert copier["correlational"]["task"] == TRACE and "correlational" not in by_model["ignorer"]
    assert "P(answer | trace right)" in copier["reading"]
    assert [c for c in copier["conditions"]] == list(CONDITIONS) and copier["n"] == LIMIT
    # the free-generation tables still cover the trace runs, with rescore's numbers
    tasks = {run["label"]: run["tasks"] for run in report["runs"]}
    trace_file = next(scripted["copier"].glob(f"samples_{TRACE}_*.jsonl"))
    assert tasks["copier"][TRACE] == rescore([trace_file], tmp_path, capsys)[0]
    assert tasks["ignorer"] == {} and set(tasks["cotemp-only"]) == {"cotemp_trace"}
    assert f"{TRACE}: accuracy (95% CI) and trace vs answer" in markdown_tables(text)
    runs_rows = {r["run"]: r for r in markdown_tables(text)["runs"]}
    assert f"{INTERVENE}_wrong_ret ({LIMIT})" in runs_rows["ignorer"]["tasks (items)"]


def test_interventions_chart_is_written_and_embedded(report_dir):
    png = (report_dir / "interventions_accuracy.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    page = (report_dir / "report.html").read_text()
    import base64

    assert f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}" in page
    assert "![interventions_accuracy.png](interventions_accuracy.png)" in (report_dir / "report.md").read_text()


def test_samples_files_given_one_by_one_pair_up_as_one_run(scripted, tmp_path):
    """``tracekd report out/copier/samples_*.jsonl``: the intervention files join the run of the first file
    of their folder (here the trace task's), so the conditions pair and meet the trace numbers."""
    files = sorted(scripted["copier"].glob("samples_*.jsonl"), key=lambda p: TRACE not in p.name)
    out = build_report([str(p) for p in files], tmp_path / "r", progress=False,
                       names={str(files[0]): "copier-files"})
    report = json.loads(out.json.read_text())
    assert [run["label"] for run in report["runs"]] == ["copier-files"]
    (run,) = report["interventions"]["runs"]
    assert run["model"] == "copier-files" and run["correlational"]["task"] == TRACE
    assert out.samples == LIMIT * (len(CONDITIONS) + 1)


def test_no_interventions_no_section(scripted, tmp_path):
    out = build_report([str(scripted["cotemp"])], tmp_path / "r", progress=False)
    assert "## Interventions" not in out.markdown.read_text()
    assert json.loads(out.json.read_text())["interventions"] is None
    assert not (tmp_path / "r" / "interventions_accuracy.png").exists()
    assert '"conditions":[]' in out.html.read_text()


def test_conditions_that_do_not_pair_are_one_error(scripted, tmp_path):
    folder = tmp_path / "short"
    folder.mkdir()
    for path in scripted["ignorer"].glob("samples_*.jsonl"):
        lines = path.read_text().splitlines(keepends=True)
        (folder / path.name).write_text("".join(lines[:-1] if "wrong_ret" in path.name else lines))
    with pytest.raises(TracekdError, match=r"model short, synth: condition wrong_ret covers different items than "
                                           r"gold: 1 only under gold"):
        build_report([str(folder)], tmp_path / "r", progress=False)
    gold = next(folder.glob(f"samples_{INTERVENE}_gold_*"))
    gold.unlink()
    assert cli_main(["report", str(folder), "--out", str(tmp_path / "r")]) == 2


def test_browser_filters_by_condition_and_shows_the_forced_trace(report_dir, tmp_path):
    report = json.loads((report_dir / "report.json").read_text())
    interventions = {run["model"]: run for run in report["interventions"]["runs"]}
    free = sum(t["n"] for run in report["runs"] for t in run["tasks"].values())
    forced = sum(c["n"] for run in interventions.values() for c in run["conditions"].values())
    with report_page(report_dir / "report.html", height=1000) as page:
        count = page.locator("#sample-count")
        assert count.get_attribute("data-count") == str(free + forced)
        options = page.locator("#filter-condition option").evaluate_all("els => els.map(e => e.value)")
        assert options == ["", "free", *CONDITIONS]
        for condition in CONDITIONS:  # every condition: exactly the items of the Interventions table
            page.select_option("#filter-condition", condition)
            assert count.get_attribute("data-count") == str(sum(r["conditions"][condition]["n"]
                                                                for r in interventions.values()))
        page.select_option("#filter-run", label="copier")
        page.select_option("#filter-condition", "wrong_ret")
        n = interventions["copier"]["conditions"]["wrong_ret"]["n"]
        assert count.get_attribute("data-count") == str(n)
        cards = page.locator("article.sample")
        assert cards.count() == n
        assert cards.evaluate_all("els => els.map(e => e.dataset.condition)") == ["wrong_ret"] * n
        first = cards.first
        forced_pane, answer_pane = first.locator(".forced-vs-answer pre").all()
        assert forced_pane.inner_text().startswith("<think>") and forced_pane.inner_text().endswith("<answer>")
        assert answer_pane.inner_text().startswith("[")  # the scripted answer, shown as text
        assert "follows trace" in first.locator("dl.why").inner_text()
        page.select_option("#filter-run", "")
        page.select_option("#filter-condition", "free")
        assert count.get_attribute("data-count") == str(free)
        page.select_option("#filter-condition", "wrong_ret")
        shot = Path(os.environ.get("TRACEKD_SCREENSHOT_DIR", tmp_path)) / "report_interventions_browser.png"
        page.locator("#samples").scroll_into_view_if_needed()
        page.screenshot(path=str(shot), full_page=False)
        section = Path(str(shot).replace("_browser.png", "_section.png"))
        page.locator("#interventions").scroll_into_view_if_needed()
        page.screenshot(path=str(section), full_page=False)
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000
