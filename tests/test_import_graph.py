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
