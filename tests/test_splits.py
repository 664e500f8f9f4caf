"""Stable hash splits, and CoTemp's choice between the paper's positional split and the hash rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from data_paths import DATA, TASKS

from tracekd_ext.adapters import cotemp
from tracekd_ext.errors import TracekdError
from tracekd_ext.splits import id_list_checksum, in_sample, unit_number


def test_unit_number_depends_on_seed_stratum_and_key_only():
    assert unit_number("a", "s") == unit_number("a", "s")
    assert len({unit_number("a", "s"), unit_number("a", "t"), unit_number("b", "s"), unit_number("a", "s", 1)}) == 4
    draws = [unit_number(str(i), "s") for i in range(20_000)]
    assert all(0 <= u < 1 for u in draws)
    assert sum(in_sample(str(i), "s", 0.1) for i in range(20_000)) == pytest.approx(2000, abs=150)
    assert sum(u < 0.5 for u in draws) == pytest.approx(10_000, abs=300)


def test_id_list_checksum_ignores_order():
    assert id_list_checksum(["b", "a"]) == id_list_checksum(["a", "b"]) != id_list_checksum(["a"])


def _copy_relation(tmp_path: Path, keep) -> Path:
    folder = tmp_path / "cotempqa"
    folder.mkdir(parents=True, exist_ok=True)
    for relation in cotemp.RELATIONS:
        lines = (DATA / "cotempqa" / f"{relation}.jsonl").read_text().splitlines()
        (folder / f"{relation}.jsonl").write_text("".join(line + "\n" for i, line in enumerate(lines) if keep(i)))
    return tmp_path


def test_cotemp_hash_rule_is_stable_under_partial_copies(tmp_path):
    full = cotemp.load(DATA, "test", split_rule="hash")
    partial = cotemp.load(_copy_relation(tmp_path, lambda i: i % 4), "test", split_rule="hash")
    assert {p.id for p in partial} == {p.id for p in full} & {p.id for p in cotemp.load(tmp_path, "all")}
    for problem in full:
        relation, index = problem.label, problem.meta["index"]
        assert in_sample(str(index), f"cotemp/{relation}", 0.2)


def test_cotemp_paper_rule_is_the_default_and_positional(tmp_path):
    assert [p.id for p in cotemp.load(DATA, "test")] == [p.id for p in cotemp.load(DATA, "test", split_rule="paper")]
    rows = len((DATA / "cotempqa" / "equal.jsonl").read_text().splitlines())
    positions = cotemp.paper_test_positions(rows)
    equal = cotemp.load(DATA, "all", relations=("equal",))
    assert [p.id for p in cotemp.load(DATA, "test", relations=("equal",))] == \
        [p.id for i, p in enumerate(equal) if i in positions]
    with pytest.raises(TracekdError, match="split_rule"):
        cotemp.load(DATA, "test", split_rule="random")


def test_cotemp_reports_what_a_partial_copy_lacks(caplog):
    with caplog.at_level("WARNING", logger="tracekd"):
        cotemp.load(DATA, "test")
    assert "during 958 of 3096 rows" in caplog.text and "not the paper's" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="tracekd"):
        test = cotemp.load(DATA, "test", split_rule="hash")
    here = {(p.label, p.meta["index"]) for p in test}
    for relation, public in cotemp.PUBLIC_ROWS.items():
        indices = {json.loads(line)["index"] for line in (DATA / "cotempqa" / f"{relation}.jsonl").open()}
        lacking = sum(cotemp.hash_test(i, relation) for i in range(public) if i not in indices)
        assert f"{relation} lacks {lacking} test items" in caplog.text
        assert sum(1 for r, _ in here if r == relation) + lacking == sum(cotemp.hash_test(i, relation)
                                                                         for i in range(public))


def test_cotemp_readme_states_the_public_hash_split():
    full = [f"cotemp/{r}/{i}" for r, n in cotemp.PUBLIC_ROWS.items() for i in range(n) if cotemp.hash_test(i, r)]
    readme = (TASKS / "trace_qa" / "cotemp_qa" / "README.md").read_text()
    assert f"Full data: {len(full)} test rows" in readme and id_list_checksum(full) in readme
