"""Issue 18 item 6: report.html stays usable at scale. The sample browser carries a bounded, stated number of
samples per samples file and 2x2 cell (evenly spaced by line; ``--browser-samples all`` carries every one),
while report.md / report.json and the figures use every sample. Sizes and Chromium timings at 100,000
samples are measured by bench/bench_report.py (BENCHMARKS.md)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from cli_helpers import run_cli
from report_browser import report_page
from report_fixtures import cotemp_problems, varied_generation, write_run_folder

from tracekd_ext.report.browser_data import browser_choice


def payload(html: Path) -> dict:
    block = re.search(r'<script[^>]*id="report-data"[^>]*>(.*?)</script>', html.read_text(encoding="utf-8"), re.S)
    return json.loads(block.group(1))


def cell_of(sample: dict) -> str:
    return "na" if sample["tr"] is None else ("t" if sample["tr"] else "f") + ("t" if sample["a"] else "f")


def test_browser_choice_keeps_small_cells_whole_and_spreads_large_ones():
    cells = ["tt"] * 10 + ["ff"] * 3 + ["tt"] * 10
    chosen = browser_choice(cells, 4)
    assert [i for i in chosen if cells[i] == "ff"] == [10, 11, 12]
    assert [i for i in chosen if cells[i] == "tt"] == [0, 5, 13, 18]  # evenly over the 20 tt items, in file order
    assert chosen == sorted(chosen)
    assert browser_choice(cells, None) == list(range(len(cells)))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir) -> list[Path]:
    """Two runs of 40 CoTemp samples whose generations fill every trace x answer cell (8 in tt, tf, ft; 16 in
    ff, unparsable generations included)."""
    root = tmp_path_factory.mktemp("scale")
    problems = cotemp_problems(40)
    return [write_run_folder(root / name, problems, [varied_generation(p, i + shift) for i, p in enumerate(problems)],
                             pretrained=name) for shift, name in enumerate(("model-a", "model-b"))]


@pytest.fixture(scope="module")
def reports(runs, tmp_path_factory) -> dict[str, Path]:
    from tracekd_ext.cli import main

    out = tmp_path_factory.mktemp("reports")
    for bound in ("3", "all"):
        assert main(["report", *map(str, runs), "--out", str(out / bound), "--browser-samples", bound]) == 0
    return {"bounded": out / "3", "all": out / "all"}


def test_the_browser_carries_at_most_the_bound_per_file_and_cell(reports):
    data = payload(reports["bounded"] / "report.html")
    assert data["perCell"] == 3
    for group in data["groups"]:
        counts = Counter(cell_of(s) for s in group["samples"])
        assert group["total"] == 40 and set(counts) == {"tt", "tf", "ft", "ff"}
        assert all(n == 3 for n in counts.values()), counts  # every cell holds 8 or more: 3 of each carried
        lines = [s["n"] for s in group["samples"]]
        assert lines == sorted(lines)
    everything = payload(reports["all"] / "report.html")
    assert everything["perCell"] is None and [len(g["samples"]) for g in everything["groups"]] == [40, 40]
    assert (reports["bounded"] / "report.html").stat().st_size < (reports["all"] / "report.html").stat().st_size


def test_tables_and_figures_use_every_sample(reports):
    bounded, full = (json.loads((reports[k] / "report.json").read_text()) for k in ("bounded", "all"))
    assert bounded == full
    assert [t["n"] for run in bounded["runs"] for t in run["tasks"].values()] == [40, 40]
    assert (reports["bounded"] / "report.md").read_text() == (reports["all"] / "report.md").read_text()
    for png in ("confusion_trace.png", "answer_accuracy.png"):
        assert (reports["bounded"] / png).read_bytes() == (reports["all"] / png).read_bytes()


def test_a_bad_bound_is_an_argument_error(capsys, runs, tmp_path):
    with pytest.raises(SystemExit) as done:
        run_cli(capsys, "report", runs[0], "--out", tmp_path / "r", "--browser-samples", "0")
    assert done.value.code == 2 and capsys.readouterr().err.strip().splitlines()[-1] == (
        "tracekd report: error: argument --browser-samples: expected an integer of at least 1, got '0'")


def test_the_page_states_how_many_samples_it_carries(reports):
    with report_page(reports["bounded"] / "report.html", height=900) as page:
        note = page.locator("#browser-note").inner_text()
        assert note.startswith("The browser carries 24 of the 80 samples: at most 3 per samples file and 2x2 cell")
        assert "--browser-samples all" in note
        count = page.locator("#sample-count")
        assert count.get_attribute("data-count") == "24"
        page.select_option("#filter-cell", "ff")
        assert count.get_attribute("data-count") == "6"
    with report_page(reports["all"] / "report.html", height=900) as page:
        assert page.locator("#browser-note").inner_text() == ""
        assert page.locator("#sample-count").get_attribute("data-count") == "80"
