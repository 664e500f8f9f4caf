"""The package layout has no import cycles, type-only imports (``if TYPE_CHECKING:``) included: every import
statement of tracekd_ext and the training module is read from source, and the module graph is acyclic."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter

from data_paths import REPO

PACKAGES = {"tracekd_ext": REPO / "tracekd_ext", "tracekd_train": REPO / "train"}


def module_files() -> dict[str, object]:
    found = {}
    for package, root in PACKAGES.items():
        for path in root.rglob("*.py"):
            parts = [package, *path.relative_to(root).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(path, modules) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                names.add(submodule if submodule in modules else node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_import_cycles():
    modules = module_files()
    assert "tracekd_ext.trace_parse" in modules and "tracekd_train.trainer" in modules
    graph = {name: {m for m in imports_of(path, modules) if m in modules and m != name}
             for name, path in modules.items()}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as err:
        raise AssertionError(f"import cycle: {' -> '.join(err.args[1])}") from None


# The modules lm-eval calls through the task YAMLs' ``!function`` (the top of the evaluate flow): offline
# analysis (rescore, report, the interventions analysis) and the demo read samples files through
# ``harness.samples`` and never reach these.
LM_EVAL_HOOKS = {"tracekd_ext.harness.task_hooks", "tracekd_ext.interventions.task_hooks"}
# The core of the three flows (record, adapters, format, parser, scorer, metrics, statistics) knows nothing of
# the layers that sit on it.
UPPER_LAYERS = ("tracekd_ext.harness", "tracekd_ext.interventions", "tracekd_ext.report", "tracekd_ext.demo",
                "tracekd_ext.commands", "tracekd_ext.cli", "tracekd_ext.rescore", "tracekd_train")
CORE = ("tracekd_ext.record", "tracekd_ext.adapters", "tracekd_ext.trace_format", "tracekd_ext.trace_parse",
        "tracekd_ext.scoring", "tracekd_ext.task_scoring", "tracekd_ext.metrics", "tracekd_ext.metric_table",
        "tracekd_ext.stats", "tracekd_ext.answer_rules", "tracekd_ext.text", "tracekd_ext.files")


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: {m for m in imports_of(path, modules) if m in modules and m != name}
            for name, path in modules.items()}


def walk(graph: dict[str, set[str]], start: str) -> tuple[set[str], list[str]]:
    """Every module reached from ``start`` (function-level imports included) and the longest import chain."""
    longest: dict[str, list[str]] = {}

    def chain(name: str) -> list[str]:
        if name not in longest:
            longest[name] = [name, *max((chain(m) for m in graph[name]), key=len, default=[])]
        return longest[name]

    reached, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(graph[name])
    return reached, chain(start)


def in_any(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_offline_analysis_and_the_demo_stay_below_the_lm_eval_hooks():
    graph = import_graph()
    for start in ("tracekd_ext.report.build", "tracekd_ext.commands.report", "tracekd_ext.commands.rescore",
                  "tracekd_ext.rescore", "tracekd_ext.interventions.analysis",
                  "tracekd_ext.interventions.report_section", "tracekd_ext.demo.stages", "tracekd_ext.commands.demo"):
        reached, longest = walk(graph, start)
        climbs = reached & LM_EVAL_HOOKS
        assert not climbs, f"{start} reaches the lm-eval hooks {sorted(climbs)} (longest: {' -> '.join(longest)})"


def test_the_core_imports_no_upper_layer():
    graph = import_graph()
    for name, imported in graph.items():
        if in_any(name, CORE):
            up = sorted(m for m in imported if in_any(m, UPPER_LAYERS))
            assert not up, f"{name} imports {up}, which sit on it"


def test_the_interventions_analysis_imports_no_report_or_command():
    """conditions, statistics, analysis and tables are below the report; only the two modules that feed the
    report (browser_rows, report_section) use its building blocks."""
    graph = import_graph()
    for name in ("conditions", "statistics", "analysis", "tables"):
        reached, _ = walk(graph, f"tracekd_ext.interventions.{name}")
        up = sorted(m for m in reached if in_any(m, ("tracekd_ext.report", "tracekd_ext.commands",
                                                     "tracekd_ext.cli", "tracekd_ext.demo")))
        assert not up, f"tracekd_ext.interventions.{name} reaches {up}"
