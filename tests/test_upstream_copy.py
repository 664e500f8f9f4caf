"""The upstream path (docs/upstream.md): lm-eval runs a copy of only ``tasks/trace_qa/`` with tracekd installed as
a package, from a folder outside the repository and with a clean ``PYTHONPATH``, so every ``!function`` reference
of the copy resolves through the installed ``tracekd_ext``, never through this checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from data_paths import DATA, REPO, TASKS

from tracekd_ext.adapters import get_spec
from tracekd_ext.metrics import PAIR_METRICS
from tracekd_ext.task_registry import GROUPS
from tracekd_ext.trace_format import render_prompt, render_target

pytestmark = pytest.mark.slow
SOURCES = ("pyproject.toml", "setup.py", "README.md", "tracekd_ext", "tasks", "train")  # what the package is built from


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(cmd[:4])}...\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_lm_eval_runs_a_copy_of_the_task_folder_with_tracekd_installed(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "TRACEKD_DATA_DIR")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", PYTHONNOUSERSITE="1", PIP_NO_INDEX="1")
    # tracekd as a built package (not editable) in a fresh venv that sees the system's lm-eval, torch, ...
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / name, source / name)
    venv = tmp_path / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    # without its own pip and setuptools: the system's (which build wheels) install into it
    _run([base_python, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], tmp_path, env)
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", str(source)], tmp_path, env)
    shutil.rmtree(source)

    # only the task folder, somewhere else
    tasks_copy = tmp_path / "include" / "trace_qa"
    shutil.copytree(TASKS / "trace_qa", tasks_copy)
    work = tmp_path / "work"
    work.mkdir()
    where = _run([python, "-c", "import sys, tracekd_ext; print(tracekd_ext.__file__); print(sys.path)"], work, env)
    assert str(REPO) not in where.stdout and str(venv) in where.stdout.splitlines()[0]

    model = _tiny_model(tmp_path / "tiny")
    metadata = json.dumps({"data_dir": str(DATA), "split": "all"})  # the MS MARCO copy holds no test items
    _run([python, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={model},max_length=512",
          "--include_path", str(tasks_copy.parent), "--tasks", "trace_qa", "--limit", "2", "--device", "cpu",
          "--batch_size", "2", "--gen_kwargs", "max_gen_toks=12", "--metadata", metadata,
          "--output_path", str(work / "out"), "--log_samples"], work, env)

    results_file = next((work / "out").rglob("results_*.json"))
    results = json.loads(results_file.read_text())
    for task in GROUPS["trace_qa"]:
        assert results["n-samples"][task]["effective"] == 2
        assert {"parse_ok,none", "answer_acc,none", "trace_acc,none"} <= set(results["results"][task])
        assert {f"{name},none" for name in PAIR_METRICS} <= set(results["results"][task])
        source_yaml = Path(results["configs"][task]["metadata"]["config_source"])
        assert source_yaml.is_relative_to(tasks_copy), source_yaml
        rows = [json.loads(line) for line in next((work / "out").rglob(f"samples_{task}_*.jsonl")).open()]
        assert len(rows) == 2 and all("parse_ok" in row for row in rows)
    assert {"answer_acc,none", "trace_acc,none"} <= set(results["results"]["trace_qa"])


def _tiny_model(out_dir: Path) -> Path:
    from tiny_model import build_tiny_model

    corpus = []
    for dataset in ("cotemp", "babi", "marco"):
        spec = get_spec(dataset)
        for problem in spec.load(DATA, "all")[:40]:
            corpus.append(render_prompt(problem, spec, instruction=True) + render_target(problem, spec, "correct"))
    return build_tiny_model(out_dir, corpus)
