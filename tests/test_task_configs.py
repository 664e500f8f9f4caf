"""The task folder is generated from the metric table and the task registry, and the report reads the same table.

Round trip: every committed task YAML, read the way lm-eval reads it (includes merged, ``!function`` resolved),
declares exactly the metric table's metrics for its kind, and the report's task tables show exactly the metric
table's report columns; the generator's ``--check`` finds nothing stale.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lm_eval.tasks._yaml_loader import load_yaml

from tracekd_ext.harness import task_hooks as lm_eval_glue
from tracekd_ext.interventions import task_hooks as interventions_glue
from tracekd_ext.interventions.conditions import CONDITIONS
from tracekd_ext.metric_table import GLUE_MODULE, KINDS, METRICS, VALUE_TYPES, metrics_of, report_columns
from tracekd_ext.metrics import DIRECT_METRICS, PAIR_METRICS, STEP_METRICS
from tracekd_ext.report.tables import DIRECT_HEADER, TRACE_HEADER
from tracekd_ext.task_registry import FAMILIES, GROUPS, TASKS, tasks_dir

TRACE_QA = Path(tasks_dir()) / "trace_qa"
LM_EVAL_TASKS = Path(__import__("lm_eval.tasks", fromlist=["x"]).__file__).parent


def _task_files() -> list[tuple[Path, str]]:
    """(YAML path, kind) of every generated task."""
    out = []
    for family in FAMILIES:
        folder = TRACE_QA / family.folder
        out += [(folder / f"{family.prefix}_{kind}.yaml", kind) for kind in family.max_gen_toks]
        out += [(folder / f"{family.prefix}_intervene_{c}.yaml", "intervene") for c in CONDITIONS]
    return out


def test_the_generator_check_finds_nothing_stale():
    done = subprocess.run([sys.executable, str(TRACE_QA / "_generate_configs.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_generator_check_reports_an_edited_file(tmp_path):
    """--check compares real files: an edited copy of the folder is reported by name."""
    import shutil

    copy = tmp_path / "trace_qa"
    shutil.copytree(TRACE_QA, copy)
    target = copy / FAMILIES[0].folder / f"{FAMILIES[0].prefix}_trace.yaml"
    target.write_text(target.read_text().replace("max_gen_toks:", "max_gen_toks: 1 #"))
    done = subprocess.run([sys.executable, str(copy / "_generate_configs.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert f"{FAMILIES[0].folder}/{FAMILIES[0].prefix}_trace.yaml" in done.stderr


@pytest.mark.parametrize("path, kind", _task_files(), ids=lambda v: v.name if isinstance(v, Path) else v)
def test_each_task_yaml_declares_the_metric_table(path, kind):
    config = load_yaml(path, resolve_func=True)
    declared = [(m["metric"], m["aggregation"], m["higher_is_better"]) for m in config["metric_list"]]
    expected = []
    for metric in metrics_of(kind):
        if metric.value != "pair":
            expected.append((metric.name, "mean", metric.higher_is_better))
        else:
            expected.append((metric.name, getattr(lm_eval_glue, metric.aggregation), metric.higher_is_better))
    assert declared == expected
    glue = interventions_glue if kind == "intervene" else lm_eval_glue
    assert config["process_results"] is glue.process_results
    assert config["doc_to_text"] is glue.doc_to_text


def test_pair_aggregations_are_the_glue_functions():
    for metric in METRICS:
        assert metric.value in VALUE_TYPES and set(metric.kinds) <= set(KINDS)
        if metric.value == "pair":
            assert metric.pair is not None and callable(getattr(lm_eval_glue, metric.aggregation))
            assert GLUE_MODULE == lm_eval_glue.__name__


def test_task_yamls_bind_the_registry():
    """Each trace/direct/free task loads its registry dataset with its kind's loader; every registry task exists."""
    loaders = {"trace": lm_eval_glue.load_trace, "direct": lm_eval_glue.load_direct, "free": lm_eval_glue.load_free}
    seen = {}
    for path, kind in _task_files():
        config = load_yaml(path, resolve_func=True)
        if kind == "intervene":
            continue
        assert config["custom_dataset"] is loaders[kind]
        assert config["generation_kwargs"]["until"] == (["</answer>"] if kind == "trace" else [])
        seen[config["task"]] = (config["metadata"]["dataset"], kind)
    assert seen == TASKS
    for name in ("trace_qa", "trace_qa_free"):
        group = load_yaml(TRACE_QA / f"_{name}.yaml", resolve_func=False)
        assert tuple(group["task"]) == GROUPS[name]


def test_report_columns_are_the_metric_tables():
    trace_columns = tuple(m.column for m in report_columns("trace"))
    direct_columns = tuple(m.column for m in report_columns("direct"))
    assert TRACE_HEADER[2:2 + len(trace_columns)] == trace_columns
    assert DIRECT_HEADER[2:] == direct_columns
    # every report column is a summarised metric of its kind
    assert {m.name for m in report_columns("trace")} <= set(STEP_METRICS)
    assert {m.name for m in report_columns("direct")} == set(DIRECT_METRICS)


def test_summary_names_are_the_metric_tables():
    assert STEP_METRICS == tuple(m.name for m in metrics_of("trace") if m.pair is None)
    assert set(PAIR_METRICS) == {m.name for m in metrics_of("trace") if m.pair is not None}


def test_folder_names_do_not_collide_with_upstream_tasks():
    upstream = {p.name for p in LM_EVAL_TASKS.iterdir() if p.is_dir()}
    ours = {TRACE_QA.name, *(f.folder for f in FAMILIES)}
    assert not ours & upstream
