"""tracekd report: numbers equal tracekd rescore, figures have one panel per run x task, the HTML page works
in a real headless browser, and bad input gives one-line errors."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from report_browser import report_page
from report_fixtures import (
    TIMESTAMP,
    cotemp_problems,
    run_lm_eval,
    samples_row,
    tiny_corpus,
    varied_generation,
    write_run_folder,
    write_samples,
)

from tracekd_ext.cli import main as cli_main
from tracekd_ext.errors import TracekdError
from tracekd_ext.formatting import fmt
from tracekd_ext.json_safe import json_safe
from tracekd_ext.record import Problem
from tracekd_ext.report.build import build_report
from tracekd_ext.report.plots import accuracy_figure, confusion_figure
from tracekd_ext.report.runs import load_runs, pooled_summary, score_file, score_files
from tracekd_ext.report.tables import DIRECT_HEADER, PAIR_HEADER, TRACE_HEADER

pytestmark = pytest.mark.usefixtures("data_dir")  # skipped, or failed under CI, without the data copy


@pytest.fixture(autouse=True)
def _offline(monkeypatch, data_dir):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("TRACEKD_DATA_DIR", str(data_dir))


# ---------------------------------------------------------------- helpers reading the outputs back


def markdown_tables(text: str) -> dict[str, list[dict[str, str]]]:
    """Every ``**title**`` table of report.md as a list of rows keyed by header."""
    tables, lines = {}, text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("**") and i + 2 < len(lines) and lines[i + 2].startswith("| "):
            header = _cells(lines[i + 2])
            rows, j = [], i + 4
            while j < len(lines) and lines[j].startswith("| "):
                rows.append(dict(zip(header, _cells(lines[j]), strict=True)))
                j += 1
            tables[line.strip("*")] = rows
    return tables


def _cells(line: str) -> list[str]:
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def with_ci(metric: dict) -> str:
    mean = metric["mean"]
    return "n/a" if mean is None else f"{fmt(mean)} [{fmt(metric['ci'][0])}, {fmt(metric['ci'][1])}]"


def phi_with_ci(pair: dict) -> str:
    if pair["phi"] is None:
        return "n/a"
    flag = "" if pair["phi_ci_reliable"] else "*"  # an expected cell count below 5
    return f"{fmt(pair['phi'])} [{fmt(pair['phi_ci'][0])}, {fmt(pair['phi_ci'][1])}]{flag}"


def expected_trace_row(summary: dict) -> dict[str, str]:
    """The row report.md must show for a rescore summary (values straight from ``tracekd rescore`` JSON)."""
    m, pair = summary["metrics"], summary["pairs"]["trace"]
    values = [fmt(summary["n"]), *(with_ci(m[k]) for k in ("parse_ok", "cls_acc", "ret_acc", "trace_acc",
                                                           "answer_acc", "grounded")),
              fmt(pair["tt_share"]), fmt(pair["p_answer_given_step"]), fmt(pair["p_answer_given_not_step"]),
              phi_with_ci(pair), fmt(pair["chi2"]), fmt(pair["chi2_p"]), fmt(pair["fisher_p"])]
    return dict(zip(TRACE_HEADER[1:], values, strict=True))


def expected_pair_rows(summary: dict) -> list[list[str]]:
    rows = []
    for step, p in summary["pairs"].items():
        counts = ("tt", "tf", "ft", "ff", "n", "tt_share", "p_answer_given_step", "p_answer_given_not_step")
        tests = ("chi2", "chi2_p", "chi2_yates", "chi2_yates_p", "fisher_p")
        rows.append([step, *(fmt(p[k]) for k in counts), phi_with_ci(p), *(fmt(p[k]) for k in tests)])
    return rows


def expected_reading(label: str, step: str, pair: dict) -> str:
    """The numbers a test reading must quote (what it concludes is checked against CHI2 >= 3.841)."""
    if pair["chi2"] is None:
        return f"{label}, {step} vs answer: test undefined (N = {pair['n']};"
    verdict = "rejected" if pair["chi2"] >= 3.841458820694124 else "not rejected"
    return (f"{label}, {step} vs answer: independence {verdict} at 5% (chi-square = {fmt(pair['chi2'])} "
            f"{'>=' if verdict == 'rejected' else '<'} 3.841, p = {fmt(pair['chi2_p'])}, phi = {fmt(pair['phi'])}, "
            f"N = {pair['n']}; Fisher p = {fmt(pair['fisher_p'])}")


def rescore_json(tmp_path: Path, files: list[Path], scoring: str | None = None) -> dict:
    out = tmp_path / f"rescore_{len(list(tmp_path.glob('rescore_*')))}.json"
    args = ["rescore", *map(str, files), "--output", str(out)] + (["--scoring", scoring] if scoring else [])
    assert cli_main(args) == 0
    return json.loads(out.read_text())


def check_report_equals_rescore(out_dir: Path, run_files: dict[str, list[Path]], tmp_path: Path,
                                scoring: str | None = None) -> None:
    """Every number of report.md (per task and pooled) and report.json equals tracekd rescore on the same files."""
    text = (out_dir / "report.md").read_text()
    tables = markdown_tables(text)
    report = json.loads((out_dir / "report.json").read_text())
    by_label = {run["label"]: run for run in report["runs"]}
    assert set(by_label) == set(run_files)
    for label, files in run_files.items():
        summary = rescore_json(tmp_path, files, scoring)
        per_task = {s["task"]: s for s in summary["per_task"].values()} if "per_task" in summary else {
            summary["task"]: summary}
        pooled = summary.get("pooled", summary)
        for task, expected in per_task.items():
            assert by_label[label]["tasks"][task] == expected  # report.json: identical numbers
            (row,) = [r for r in tables[f"{task}: accuracy (95% CI) and trace vs answer"] if r["run"] == label]
            assert row == {"run": label, **expected_trace_row(expected)}
            pair_rows = [list(r.values())[1:] for r in tables[f"{task}: each step vs answer (2x2 counts and tests)"]
                         if r["run"] == label]
            assert pair_rows == expected_pair_rows(expected)
            for step, pair in expected["pairs"].items():
                assert f"- {expected_reading(label, step, pair)}" in text
        pooled_rows = tables["all trace and free-form tasks pooled: accuracy (95% CI) and trace vs answer"]
        (row,) = [r for r in pooled_rows if r["run"] == label]
        assert row == {"run": label, **expected_trace_row(pooled)}


# ---------------------------------------------------------------- fast tests: samples written without a model


@pytest.fixture(scope="module")
def synthetic_runs(tmp_path_factory) -> dict[str, Path]:
    """Two lm-eval-style runs with every 2x2 cell filled, one of them with two samples files (pooling)."""
    root = tmp_path_factory.mktemp("synthetic")
    problems = cotemp_problems(15)
    good = write_run_folder(root / "out" / "org__good-model", problems,
                            [varied_generation(p, i) for i, p in enumerate(problems)], pretrained="org/good-model")
    weak = write_run_folder(root / "weak", problems, [varied_generation(p, i * 3 + 1) for i, p in enumerate(problems)],
                            pretrained=str(root / "checkpoints" / "weak-sft"))
    rows = [samples_row(p, varied_generation(p, i + 2), i) for i, p in enumerate(cotemp_problems(25)[15:])]
    write_samples(weak / f"samples_cotemp_trace_{TIMESTAMP.replace('2026', '2025')}.jsonl", rows)  # older: ignored
    return {"good": good, "weak": weak, "root": root}


def test_report_numbers_equal_rescore(synthetic_runs, tmp_path):
    out = tmp_path / "report"
    build_report([str(synthetic_runs["root"] / "out"), str(synthetic_runs["weak"])], out, progress=False)
    files = {"org/good-model": sorted(synthetic_runs["good"].glob("samples_*")),
             "weak-sft": [synthetic_runs["weak"] / f"samples_cotemp_trace_{TIMESTAMP}.jsonl"]}
    check_report_equals_rescore(out, files, tmp_path)
    text = (out / "report.md").read_text()
    assert "independence" in text and "## Pooled over trace and free-form tasks" in text


def test_free_form_tasks_pool_with_trace_tasks_as_rescore_pools_them(tmp_path):
    """A run with a trace task and a free-form task: its pooled table and headline are rescore's pooled summary
    of both files; a run with only a free-form task is summed up by that task."""
    problems = cotemp_problems(12)
    both = write_run_folder(tmp_path / "both", problems, [varied_generation(p, i) for i, p in enumerate(problems)],
                            pretrained="org/both")
    free_rows = [samples_row(p, f"The relation is {p.label}. Step by step.\nAnswer: {p.answers[i % 2 and -1]}", i,
                             kind="free") for i, p in enumerate(problems)]
    free_file = write_samples(both / f"samples_cotemp_free_{TIMESTAMP}.jsonl", free_rows)
    only_free = tmp_path / "only_free"
    only_free_file = write_samples(only_free / free_file.name, free_rows)
    out = tmp_path / "report"
    build_report([str(both), str(only_free)], out, progress=False)
    check_report_equals_rescore(out, {"org/both": sorted(both.glob("samples_*")), "only_free": [only_free_file]},
                                tmp_path)
    head = (out / "report.md").read_text().split("## Runs")[0]
    lines = {m["label"]: m for m in HEADLINE_LINE.finditer(head)}
    pooled = rescore_json(tmp_path, sorted(both.glob("samples_*")))["pooled"]
    free_only = rescore_json(tmp_path, [free_file])
    assert set(lines) == {"org/both", "only_free"}
    assert (lines["org/both"]["n"], lines["only_free"]["n"]) == (str(pooled["n"]), str(free_only["n"])) == ("24", "12")
    assert lines["only_free"]["answer"] == fmt(free_only["metrics"]["answer_acc"]["mean"])


HEADLINE_LINE = re.compile(
    r"^- (?P<label>.+) \(n = (?P<n>\d+)\): answer accuracy (?P<answer>\S+), trace accuracy (?P<trace>\S+), "
    r"parse rate (?P<parse>\S+); P\(answer \| trace right\) = (?P<right>\S+) vs P\(answer \| trace wrong\) = "
    r"(?P<wrong>\S+); phi(?: = (?P<phi>\S+) \[(?P<low>\S+), (?P<high>\S+)\]: a (?P<size>[a-z]+)[^(]*"
    r"\(independence (?P<verdict>rejected|not rejected) at 5%, chi-square p = (?P<p>[^;)\s]+)"
    r"(?:; an expected count is under 5, so read Fisher's exact p = (?P<fisher>[^)\s]+))?\)| n/a: .*)\.$", re.M)


def test_headline_opens_the_report_with_rescore_numbers(synthetic_runs, tmp_path):
    """Per run one sentence before every table: its pooled numbers (one task: that task's) as rescore gives them."""
    out = tmp_path / "report"
    build_report([str(synthetic_runs["good"]), str(synthetic_runs["weak"])], out, progress=False)
    text = (out / "report.md").read_text()
    assert text.index("## Headline") < text.index("## Runs") < text.index("\n|")
    lines = {m["label"]: m for m in HEADLINE_LINE.finditer(text.split("## Runs")[0])}
    assert set(lines) == {"org/good-model", "weak-sft"}
    files = {"org/good-model": sorted(synthetic_runs["good"].glob("samples_*")),
             "weak-sft": [synthetic_runs["weak"] / f"samples_cotemp_trace_{TIMESTAMP}.jsonl"]}
    for label, paths in files.items():
        summary = rescore_json(tmp_path, paths)
        summary = summary.get("pooled", summary)
        line, metrics, pair = lines[label], summary["metrics"], summary["pairs"]["trace"]
        assert (line["n"], line["answer"], line["trace"], line["parse"]) == (
            str(summary["n"]), fmt(metrics["answer_acc"]["mean"]), fmt(metrics["trace_acc"]["mean"]),
            fmt(metrics["parse_ok"]["mean"]))
        assert (line["right"], line["wrong"]) == (fmt(pair["p_answer_given_step"]),
                                                  fmt(pair["p_answer_given_not_step"]))
        assert (line["phi"], line["low"], line["high"], line["p"]) == (
            fmt(pair["phi"]), fmt(pair["phi_ci"][0]), fmt(pair["phi_ci"][1]), fmt(pair["chi2_p"]))
        assert line["fisher"] == (None if pair["phi_ci_reliable"] else fmt(pair["fisher_p"]))
        rejected = pair["chi2"] >= 3.841458820694124
        assert line["verdict"] == ("rejected" if rejected else "not rejected")
        size = abs(pair["phi"])
        assert line["size"] == ("negligible" if size < 0.1 else "weak" if size < 0.3 else
                                "moderate" if size < 0.5 else "strong")
    html = (out / "report.html").read_text()
    assert html.index('class="headline"') < html.index('id="runs"')


def test_paper_scoring_switch_without_rerunning(synthetic_runs, tmp_path):
    out = tmp_path / "paper"
    build_report([str(synthetic_runs["good"])], out, scoring="paper", names={"org/good-model": "good"},
                 progress=False)
    check_report_equals_rescore(out, {"good": sorted(synthetic_runs["good"].glob("samples_*"))}, tmp_path, "paper")
    assert json.loads((out / "report.json").read_text())["scoring"] == "paper"


def test_pooled_summary_equals_rescore_pooling(tmp_path):
    problems = cotemp_problems(20)
    folder = write_run_folder(tmp_path / "run", problems[:10],
                              [varied_generation(p, i) for i, p in enumerate(problems[:10])], pretrained="m")
    first = next(folder.glob("samples_*"))
    second = write_samples(tmp_path / "more.jsonl",
                           [samples_row(p, varied_generation(p, i + 1), i) for i, p in enumerate(problems[10:])])
    (run,) = load_runs([str(folder)], progress=False)
    assert run.pooled == run.tasks["cotemp_trace"].summary  # one trace task: pooled is that task
    pooled = pooled_summary([score_file(first, None, 10_000), score_file(second, None, 10_000)], 10_000)
    assert json_safe(pooled) == rescore_json(tmp_path, [first, second])["pooled"]


def test_parallel_scoring_equals_sequential(synthetic_runs, tmp_path):
    paths = [next(synthetic_runs["good"].glob("samples_*")),
             synthetic_runs["weak"] / f"samples_cotemp_trace_{TIMESTAMP}.jsonl"]
    sequential = score_files(paths, None, 1000)
    parallel = score_files(paths, None, 1000, jobs=2, min_parallel_bytes=0)
    for path in paths:
        assert json_safe(parallel[path].summary) == json_safe(sequential[path].summary)
        assert parallel[path].items == sequential[path].items
    bad = write_samples(tmp_path / f"samples_nope_{TIMESTAMP}.jsonl", [samples_row(cotemp_problems(1)[0], "x", 0)])
    with pytest.raises(TracekdError, match="unknown task 'nope'"):
        score_files([*paths, bad], None, 1000, jobs=2, min_parallel_bytes=0)


def test_rescore_json_feeds_tables_and_figures_but_not_the_browser(synthetic_runs, tmp_path):
    rescored = tmp_path / "weak_rescore.json"
    assert cli_main(["rescore", str(synthetic_runs["weak"] / f"samples_cotemp_trace_{TIMESTAMP}.jsonl"),
                     "--output", str(rescored)]) == 0
    out = tmp_path / "report"
    files = build_report([str(synthetic_runs["good"]), str(rescored)], out, progress=False)
    tables = markdown_tables(files.markdown.read_text())
    (row,) = [r for r in tables["cotemp_trace: accuracy (95% CI) and trace vs answer"] if r["run"] == "weak_rescore"]
    assert row == {"run": "weak_rescore", **expected_trace_row(json.loads(rescored.read_text()))}
    html = files.html.read_text()
    assert "weak_rescore" in html and '"aggregateOnly":["weak_rescore"]' in html
    with pytest.raises(TracekdError, match="cannot be re-scored in 'paper' mode"):
        build_report([str(rescored)], tmp_path / "x", scoring="paper", progress=False)


def test_labels_default_to_model_names_and_can_be_renamed(synthetic_runs, tmp_path):
    runs = load_runs([str(synthetic_runs["root"] / "out"), str(synthetic_runs["weak"])], progress=False)
    assert [r.label for r in runs] == ["org/good-model", "weak-sft"]
    runs = load_runs([str(synthetic_runs["good"]), str(synthetic_runs["weak"])], progress=False,
                     names={str(synthetic_runs["good"]): "A", "weak-sft": "B"})
    assert [r.label for r in runs] == ["A", "B"]
    copy = shutil.copytree(synthetic_runs["good"], tmp_path / "copy" / synthetic_runs["good"].name)
    twice = load_runs([str(synthetic_runs["good"]), str(copy)], progress=False)  # two runs of one model name
    assert [r.label for r in twice] == ["org/good-model", "org/good-model #2"]
    with pytest.raises(TracekdError, match="given twice"):  # the same run twice would count its items twice
        load_runs([str(synthetic_runs["good"]), str(synthetic_runs["good"])], progress=False)


def test_figures_have_one_panel_per_run_and_trace_task(synthetic_runs, tmp_path):
    runs = load_runs([str(synthetic_runs["good"]), str(synthetic_runs["weak"])], progress=False)
    for step in ("trace", "cls", "ret"):
        assert len(confusion_figure(runs, step).axes) == 2 * 1
    assert len(accuracy_figure(runs).axes) == 1
    copies = [str(shutil.copytree(synthetic_runs["good"], tmp_path / str(i) / "good")) for i in range(3)]
    three = load_runs(copies, progress=False)
    del three[1].tasks["cotemp_trace"]  # a run without the task keeps its (empty) panel
    assert len(confusion_figure(three, "trace").axes) == 3


def test_written_pngs_and_self_contained_html(synthetic_runs, tmp_path):
    files = build_report([str(synthetic_runs["good"])], tmp_path / "r", progress=False)
    names = sorted(p.name for p in files.figures)
    assert names == sorted([f"confusion_{s}.png" for s in ("trace", "cls", "ret")] + ["answer_accuracy.png"])
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in files.figures)
    html = files.html.read_text()
    assert html.count("data:image/png;base64,") == len(names)
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "<script>window.injected" not in html  # generations cannot close the data block


def test_direct_task_table(tmp_path):
    problems = cotemp_problems(6)
    rows = []
    for i, p in enumerate(problems):
        doc = samples_row(p, "", i)["doc"]
        doc["kind"] = "direct"
        rows.append({"doc_id": i, "doc": doc, "filtered_resps": [repr(list(p.answers)) if i % 2 else "['x']"]})
    path = write_samples(tmp_path / "m" / f"samples_cotemp_direct_{TIMESTAMP}.jsonl", rows)
    files = build_report([str(path)], tmp_path / "r", progress=False)
    table = markdown_tables(files.markdown.read_text())["cotemp_direct: accuracy (95% CI) and trace vs answer"]
    summary = rescore_json(tmp_path, [path])
    assert list(table[0]) == list(DIRECT_HEADER)
    assert table[0]["answer"] == with_ci(summary["metrics"]["answer_acc"])
    assert "Pooled" not in files.markdown.read_text()


# ---------------------------------------------------------------- bad input


def test_folder_without_samples(tmp_path):
    (tmp_path / "empty" / "model").mkdir(parents=True)
    with pytest.raises(TracekdError, match="no lm-eval samples files"):
        build_report([str(tmp_path / "empty")], tmp_path / "r", progress=False)


def test_samples_of_an_unknown_task(tmp_path):
    problems = cotemp_problems(2)
    path = write_samples(tmp_path / "m" / f"samples_mystery_task_{TIMESTAMP}.jsonl",
                         [samples_row(p, "x", i) for i, p in enumerate(problems)])
    with pytest.raises(TracekdError, match=r"samples_mystery_task_.*unknown task 'mystery_task'"):
        build_report([str(tmp_path / "m")], tmp_path / "r", progress=False)
    assert path.is_file()


def test_mixed_scoring_modes(tmp_path):
    problems = cotemp_problems(4)
    gens = [varied_generation(p, i) for i, p in enumerate(problems)]
    strict = write_run_folder(tmp_path / "strict", problems, gens, pretrained="s")
    paper = write_run_folder(tmp_path / "paper", problems, gens, pretrained="p", scoring="paper")
    with pytest.raises(TracekdError, match=r"different modes: s \(strict\), p \(paper\); pass --scoring"):
        build_report([str(strict), str(paper)], tmp_path / "r", progress=False)
    build_report([str(strict), str(paper)], tmp_path / "r", scoring="strict", progress=False)
    mixed = write_samples(tmp_path / "mixed.jsonl", [samples_row(problems[0], "x", 0, "strict"),
                                                     samples_row(problems[1], "x", 1, "paper")])
    with pytest.raises(TracekdError, match="different modes"):
        build_report([str(mixed)], tmp_path / "r2", progress=False)


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert cli_main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tracekd report: error:") and "no such file or folder" in err and "\n" not in err
    (tmp_path / "run").mkdir()
    assert cli_main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "r"), "--name", "oops"]) == 2
    assert "--name expects RUN=LABEL" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"results": {}, "config": {}}')
    assert cli_main(["report", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "lm-eval results file; pass its folder" in capsys.readouterr().err


def test_unknown_name_key(synthetic_runs, tmp_path):
    with pytest.raises(TracekdError, match="--name given for 'nope'"):
        load_runs([str(synthetic_runs["good"])], names={"nope": "x"}, progress=False)


# ---------------------------------------------------------------- real lm-eval runs of two tiny models


@pytest.fixture(scope="module")
def eval_runs(tmp_path_factory) -> dict[str, Path]:
    """Two tiny random Llamas (different seeds) evaluated by lm-eval on cotemp_trace --limit 4 --log_samples,
    plus a samples file with the same docs and scripted generations (fills every 2x2 cell)."""
    from tiny_model import build_tiny_model

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    root = tmp_path_factory.mktemp("lm_eval_runs")
    corpus = tiny_corpus()
    runs = {}
    for name, seed in (("tiny-a", 0), ("tiny-b", 1)):
        model = build_tiny_model(root / "models" / name, corpus, seed=seed)
        runs[name] = run_lm_eval(model, root / "out" / name)
    rows = [json.loads(line) for line in next(runs["tiny-a"].glob("samples_*.jsonl")).read_text().splitlines()]
    problems = [Problem.from_dict(r["doc"]) for r in rows]
    seen = {p.id for p in problems}
    problems += [p for p in cotemp_problems(20) if p.id not in seen][:4]  # 8 items: every kind of varied_generation
    scripted = [samples_row(p, varied_generation(p, i), i) for i, p in enumerate(problems)]
    runs["scripted"] = write_samples(root / "scripted" / "scripted.jsonl", scripted)
    return runs


@pytest.fixture(scope="module")
def eval_report(eval_runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eval_report")
    assert cli_main(["report", str(eval_runs["tiny-a"].parent), str(eval_runs["tiny-b"].parent),
                     str(eval_runs["scripted"]), "--out", str(out), "--jobs", "1"]) == 0
    return out


@pytest.mark.slow
def test_eval_report_numbers_equal_rescore(eval_runs, eval_report, tmp_path):
    files = {"tiny-a": list(eval_runs["tiny-a"].glob("samples_*")),
             "tiny-b": list(eval_runs["tiny-b"].glob("samples_*")), "scripted": [eval_runs["scripted"]]}
    check_report_equals_rescore(eval_report, files, tmp_path)
    tables = markdown_tables((eval_report / "report.md").read_text())
    assert list(tables["cotemp_trace: each step vs answer (2x2 counts and tests)"][0]) == list(PAIR_HEADER)


@pytest.mark.slow
def test_eval_report_figures(eval_runs, eval_report):
    runs = load_runs([str(eval_runs["tiny-a"]), str(eval_runs["tiny-b"]), str(eval_runs["scripted"])], progress=False)
    assert len(confusion_figure(runs, "trace").axes) == 3
    for png in ("confusion_trace.png", "confusion_cls.png", "confusion_ret.png", "answer_accuracy.png"):
        assert (eval_report / png).read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_eval_report_in_headless_chromium(eval_report, tmp_path):
    report = json.loads((eval_report / "report.json").read_text())
    total = sum(t["n"] for run in report["runs"] for t in run["tasks"].values())
    tt = sum(t["pairs"]["trace"]["tt"] for run in report["runs"] for t in run["tasks"].values())
    ff = sum(t["pairs"]["trace"]["ff"] for run in report["runs"] for t in run["tasks"].values())
    with report_page(eval_report / "report.html", height=900) as page:
        assert page.locator("section.headline li").count() == 3  # one sentence per run, above the tables
        top = Path(os.environ.get("TRACEKD_SCREENSHOT_DIR", tmp_path)) / "report_top.png"
        page.screenshot(path=str(top), full_page=False)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # tables wrap, nothing scrolls sideways
        wide = page.locator("table").evaluate_all("ts => ts.filter(t => t.scrollWidth > t.clientWidth + 1).length")
        assert wide == 0
        count = page.locator("#sample-count")
        assert count.get_attribute("data-count") == str(total)
        assert page.locator("article.sample").count() == min(total, 50)
        page.select_option("#filter-step", "trace")
        page.select_option("#filter-cell", "tt")
        assert count.get_attribute("data-count") == str(tt) != str(total)
        assert page.locator("article.sample").count() == tt
        cells = page.locator("article.sample").evaluate_all("els => els.map(e => e.dataset.cell)")
        assert cells == ["tt"] * tt
        page.select_option("#filter-cell", "ff")
        assert count.get_attribute("data-count") == str(ff)
        page.select_option("#filter-run", label="scripted")
        page.select_option("#filter-cell", "any")
        first = page.locator("article.sample").first
        assert "gold" in first.locator("ol.units").inner_text() and "CLS" in first.locator("dl.why").inner_text()
        assert page.evaluate("window.injected") is None  # a generation's markup is shown as text, never run
        shot = Path(os.environ.get("TRACEKD_SCREENSHOT_DIR", tmp_path)) / "report_browser.png"
        page.locator("#samples").scroll_into_view_if_needed()
        page.screenshot(path=str(shot), full_page=False)
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000
    assert top.read_bytes().startswith(b"\x89PNG")


def test_headline_phi_reading_points_to_fisher_when_an_expected_count_is_small():
    """A 2x2 table with one TT item (the demo's tuned run): chi-square rejects, but its expected counts are under 5,
    so the sentence gives Fisher's exact p beside it; a table with large counts does not."""
    from tracekd_ext.report.headline import phi_reading
    from tracekd_ext.stats import PairCounts, pair_statistics

    small = pair_statistics(PairCounts(tt=1, tf=0, ft=8, ff=39))
    assert not small["phi_ci_reliable"] and small["independence_rejected_5pct"]
    assert phi_reading(small).endswith(f"chi-square p = {fmt(small['chi2_p'])}; an expected count is under 5, so "
                                       f"read Fisher's exact p = {fmt(small['fisher_p'])})")
    large = pair_statistics(PairCounts(tt=30, tf=10, ft=10, ff=30))
    assert large["phi_ci_reliable"] and "Fisher" not in phi_reading(large)
