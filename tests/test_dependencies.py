"""Every third-party import of the installed packages is declared in pyproject.toml.

The modules of ``tracekd_ext/``, ``tasks/`` and ``train/`` are parsed (never imported); each absolute import
that is neither the standard library nor tracekd itself is mapped to its distribution with
``importlib.metadata.packages_distributions`` and looked up in the declared requirements:

- an import at module level must be a base requirement, or a requirement of the extra that owns the folder
  (``train/`` is the ``train`` extra, ``tracekd_ext/report/`` the ``report`` extra);
- a guarded import (inside a function, a ``try`` block or ``if TYPE_CHECKING``) runs only when the feature
  that needs it is used, so it may also come from another extra.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("tracekd_ext", "tasks", "train")
FIRST_PARTY = {"tracekd_ext", "tracekd_tasks", "tracekd_train"}
FOLDER_EXTRAS = {"train": "train", "tracekd_ext/report": "report"}


@dataclass(frozen=True)
class Declared:
    base: frozenset[str]
    extras: dict[str, frozenset[str]]


@dataclass(frozen=True)
class Import:
    module: str  # the top-level name
    file: Path
    line: int
    guarded: bool


def declared_requirements(pyproject: Path) -> Declared:
    """Canonical distribution names of the base requirements and of each extra (self-references expanded)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    own = canonicalize_name(project["name"])
    raw = {extra: [Requirement(r) for r in reqs] for extra, reqs in project.get("optional-dependencies", {}).items()}

    def names(requirements: list[Requirement], seen: frozenset[str] = frozenset()) -> frozenset[str]:
        out: set[str] = set()
        for req in requirements:
            if canonicalize_name(req.name) == own:
                for extra in req.extras - seen:
                    out |= names(raw[extra], seen | {extra})
            else:
                out.add(canonicalize_name(req.name))
        return frozenset(out)

    return Declared(names([Requirement(r) for r in project["dependencies"]]),
                    {extra: names(reqs, frozenset({extra})) for extra, reqs in raw.items()})


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, file: Path):
        self.file, self.depth, self.found = file, 0, []

    def _guarded(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Try = _guarded

    def visit_If(self, node: ast.If) -> None:
        is_type_checking = isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        (self._guarded if is_type_checking else self.generic_visit)(node)

    def _add(self, name: str, node: ast.stmt) -> None:
        top = name.split(".")[0]
        if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
            self.found.append(Import(top, self.file, node.lineno, self.depth > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._add(node.module, node)


def third_party_imports(file: Path) -> list[Import]:
    collector = _ImportCollector(file)
    collector.visit(ast.parse(file.read_text(encoding="utf-8"), filename=str(file)))
    return collector.found


def owning_extra(relative: Path) -> str | None:
    for folder, extra in FOLDER_EXTRAS.items():
        if relative.is_relative_to(folder):
            return extra
    return None


def undeclared_imports(root: Path, folders: tuple[str, ...], declared: Declared) -> list[str]:
    """One message per import whose distribution is not declared where the rules above require."""
    distributions = importlib.metadata.packages_distributions()
    any_extra = frozenset().union(*declared.extras.values())
    problems = []
    for folder in folders:
        for file in sorted((root / folder).rglob("*.py")):
            relative = file.relative_to(root)
            extra = owning_extra(relative)
            allowed = declared.base | declared.extras.get(extra, frozenset())
            for imp in third_party_imports(file):
                where = f"{relative}:{imp.line}: import {imp.module}"
                dists = {canonicalize_name(d) for d in distributions.get(imp.module, [])}
                if not dists:
                    problems.append(f"{where}: no installed distribution provides it")
                elif not dists & (allowed | any_extra if imp.guarded else allowed):
                    needed = "the base requirements" + (f" or the '{extra}' extra" if extra else "")
                    needed += " (or, being guarded, any extra)" if imp.guarded else ""
                    problems.append(f"{where}: {'/'.join(sorted(dists))} is not declared in {needed}")
    return problems


def test_every_third_party_import_is_declared():
    declared = declared_requirements(ROOT / "pyproject.toml")
    assert undeclared_imports(ROOT, SOURCE_FOLDERS, declared) == []


def test_the_runtime_needs_are_declared():
    """What no import statement shows: lm-eval's HF backend (torch, accelerate) and the demo's GGUF loading."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = [Requirement(r) for r in project["dependencies"]]
    assert "hf" in next(r for r in base if canonicalize_name(r.name) == "lm-eval").extras
    declared = declared_requirements(ROOT / "pyproject.toml")
    assert {"gguf", "accelerate"} <= declared.base | declared.extras["demo"]


def test_an_undeclared_import_fails(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "config.py").write_text(
        "import json\nfrom tracekd_ext.errors import TracekdError\nfrom . import sibling\nimport yaml\n\n"
        "def plot():\n    import matplotlib\n")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["numpy"]\n[project.optional-dependencies]\nreport = ["matplotlib"]\n')
    problems = undeclared_imports(tmp_path, ("pkg",), declared_requirements(tmp_path / "pyproject.toml"))
    assert problems == ["pkg/config.py:4: import yaml: pyyaml is not declared in the base requirements"]


def test_a_module_level_import_of_an_extra_fails_outside_its_folder(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "plots.py").write_text("import matplotlib\nimport no_such_module_anywhere\n")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = []\n[project.optional-dependencies]\nreport = ["matplotlib"]\n'
        'dev = ["x[report]"]\n')
    declared = declared_requirements(tmp_path / "pyproject.toml")
    assert declared.extras["dev"] == {"matplotlib"}
    assert undeclared_imports(tmp_path, ("pkg",), declared) == [
        "pkg/plots.py:1: import matplotlib: matplotlib is not declared in the base requirements",
        "pkg/plots.py:2: import no_such_module_anywhere: no installed distribution provides it"]
