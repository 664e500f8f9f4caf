"""Interventions: forced traces, the follows_trace rule, the paired statistics against scipy, scripted
LMs through real lm-eval runs, and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from oracle_lm import oracle_lm
from scipy import stats as sps

from tracekd_ext.adapters import get_spec
from tracekd_ext.adapters.cotemp_answer import fact_entities
from tracekd_ext.errors import TracekdError
from tracekd_ext.interventions.analysis import analyze
from tracekd_ext.interventions.conditions import CONDITIONS, CORRUPTIONS, follows_trace, force
from tracekd_ext.interventions.statistics import mcnemar_exact_p, paired_difference
from tracekd_ext.record import Problem
from tracekd_ext.stats import PairCounts, wilson_interval
from tracekd_ext.task_registry import tasks_dir

STAMP = "2024-01-01T00-00-00.000000"


def problem(**kw) -> Problem:
    base = dict(id="t/1", dataset="cotemp", units=("Ann works for Acme from 2001 to 2005.",
                                                   "Ann works for Bolt from 2006 to 2008.",
                                                   "Bob works for Acme from 2001 to 2003."),
                question="Where did Ann work while Bob worked for Acme?", label="overlap", support=(0,),
                answers=("Acme",), meta={"triple_element": "S2_R1_O2"})
    base.update(kw)
    return Problem(**base)


# --- the follows_trace rule, case by case -------------------------------------------------------------
def test_follows_with_gold_units():
    p = problem()
    assert follows_trace(p, "gold", (0,), ("acme",)) is True
    assert follows_trace(p, "wrong_cls", (0,), ("acme",)) is True
    assert follows_trace(p, "gold", (0,), ("bolt",)) is False
    assert follows_trace(p, "gold", (0,), ()) is False          # no answer: does not follow
    assert follows_trace(problem(answers=("Zeta",)), "gold", (0,), ("acme",)) is None  # gold units do not give it


def test_follows_with_wrong_units():
    p = problem()
    assert follows_trace(p, "wrong_ret", (1,), ("bolt",)) is True
    assert follows_trace(p, "wrong_both", (1,), ("bolt",)) is True
    assert follows_trace(p, "wrong_ret", (1,), ("ann",)) is False   # also in the gold unit
    assert follows_trace(p, "wrong_ret", (1,), ("acme",)) is False
    assert follows_trace(p, "wrong_ret", (2,), ("bob",)) is None    # the wrong unit names the gold answer
    assert follows_trace(p, "wrong_ret", (), ("bolt",)) is None
    for condition in ("no_trace", "cls_only"):
        assert follows_trace(p, condition, None, ("acme",)) is None


def test_wrong_ret_avoids_units_with_the_answer_and_says_when_it_cannot():
    spec = get_spec("cotemp")
    p = problem()
    for seed in range(20):
        forced = force(p, spec, "wrong_ret", seed=seed)
        assert forced.support == (1,) and forced.perturbed is True
    stuck = problem(units=("Ann works for Acme.", "Bob works for Acme."), support=(0,))
    assert force(stuck, spec, "wrong_ret").perturbed is False
    assert force(p, spec, "gold").perturbed is None
    wrong = force(p, spec, "wrong_both")
    assert wrong.label == force(p, spec, "wrong_cls").label != p.label
    assert wrong.support == force(p, spec, "wrong_ret").support


# --- statistics against scipy ----------------------------------------------------------------------------
def test_mcnemar_is_the_exact_binomial_test_on_the_discordant_pairs():
    counts = PairCounts(tt=10, tf=7, ft=1, ff=2)
    assert mcnemar_exact_p(counts) == pytest.approx(sps.binomtest(1, 8, 0.5).pvalue)
    assert mcnemar_exact_p(counts) == pytest.approx(2 * (1 + 8) / 2 ** 8)  # by hand: 2 * P(X <= 1), X ~ B(8, 1/2)
    assert mcnemar_exact_p(PairCounts(5, 0, 0, 5)) == 1.0


def test_paired_difference_is_newcombes_hybrid_score_interval():
    counts = PairCounts(tt=30, tf=12, ft=3, ff=15)
    n = counts.n
    p_ref, p_oth = 42 / n, 33 / n
    ref = sps.binomtest(42, n).proportion_ci(method="wilson")
    oth = sps.binomtest(33, n).proportion_ci(method="wilson")
    phi = (30 * 15 - 12 * 3) / math.sqrt(42 * 18 * 33 * 27)
    low = (p_oth - p_ref) - math.sqrt((p_oth - oth.low) ** 2 - 2 * phi * (p_oth - oth.low) * (ref.high - p_ref)
                                      + (ref.high - p_ref) ** 2)
    high = (p_oth - p_ref) + math.sqrt((oth.high - p_oth) ** 2 - 2 * phi * (oth.high - p_oth) * (p_ref - ref.low)
                                       + (p_ref - ref.low) ** 2)
    diff, d_low, d_high = paired_difference(counts)
    assert diff == pytest.approx(-9 / 60)
    assert (d_low, d_high) == pytest.approx((low, high))
    assert d_low < diff < d_high
    assert wilson_interval(42, n) == pytest.approx((ref.low, ref.high))


# --- scripted LMs through real lm-eval runs ----------------------------------------------------------------
def copy_from_forced_units(doc, _):
    """Answers with the entities of the forced units (read by the CoTemp relation templates) that the
    question does not name; when the question names them all (the forced unit is the question's own
    reference fact), those that the gold units do not name."""
    units = tuple(doc["units"][i] for i in (doc["forced_support"] or doc["support"]))
    entities = {e for subject in (True, False) for e in fact_entities(units, subject)}
    fresh = [e for e in entities if e not in doc["question"].lower()]
    gold_text = " ".join(doc["units"][i] for i in doc["support"]).lower()
    return repr(sorted(fresh or [e for e in entities if e not in gold_text]))


def ignore_trace(doc, _):
    return repr(list(doc["answers"]))


def run_samples(tmp_path: Path, answer, model: str, limit: int = 12) -> list[Path]:
    """A real simple_evaluate of cotemp_synth_intervene; the samples written as lm-eval names them."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    out = lm_eval.simple_evaluate(model=oracle_lm(answer), tasks=["cotemp_synth_intervene"], limit=limit,
                                  task_manager=TaskManager(include_path=tasks_dir(), include_defaults=False),
                                  log_samples=True, bootstrap_iters=0)
    folder = tmp_path / model
    folder.mkdir()
    paths = []
    for task, rows in out["samples"].items():
        path = folder / f"samples_{task}_{STAMP}.jsonl"
        path.write_text("".join(json.dumps(row, default=str) + "\n" for row in rows))
        paths.append(path)
    (folder / "results.json").write_text(json.dumps(out["results"], default=str))
    return paths


@pytest.fixture(scope="module")
def copying_run(tmp_path_factory):
    return run_samples(tmp_path_factory.mktemp("copy"), copy_from_forced_units, "copier")


def test_a_model_that_copies_the_forced_units_follows_every_corruption(copying_run):
    result = analyze(copying_run)
    (run,) = result["runs"]
    assert run["model"] == "copier" and run["dataset"] == "synth" and run["n"] == 12
    for condition in CORRUPTIONS:
        c = run["conditions"][condition]
        assert c["follow_n"] > 0 and c["follow_rate"] == 1.0, condition
    for condition in ("wrong_ret", "wrong_both"):
        assert run["conditions"][condition]["answer_acc"] == 0.0  # the wrong units hold no gold answer
    assert run["conditions"]["gold"]["answer_acc"] == run["conditions"]["wrong_cls"]["answer_acc"]
    assert run["conditions"]["wrong_cls"]["answer_changed"] == 0.0
    assert run["conditions"]["wrong_ret"]["answer_changed"] == 1.0
    assert run["conditions"]["wrong_ret"]["mcnemar_p"] == pytest.approx(sps.binomtest(0, 12).pvalue)
    assert "the answer depends on the trace" in run["reading"]


def test_a_model_that_ignores_the_trace_never_changes_its_answer(tmp_path):
    (run,) = analyze(run_samples(tmp_path, ignore_trace, "ignorer"))["runs"]
    for condition in CONDITIONS:
        c = run["conditions"][condition]
        assert c["answer_acc"] == 1.0
        if condition != "gold":
            assert c["answer_changed"] == 0.0 and c["mcnemar_p"] == 1.0 and c["diff_vs_gold"] == 0.0
    assert run["conditions"]["wrong_ret"]["follow_rate"] == 0.0
    assert "no evidence that the answer depends on the trace" in run["reading"]


# --- bad input ---------------------------------------------------------------------------------------------------
def test_conditions_over_different_items_are_an_error(copying_run, tmp_path):
    wrong_ret = next(p for p in copying_run if "wrong_ret" in p.name)
    short = tmp_path / "copier" / wrong_ret.name
    short.parent.mkdir()
    short.write_text("".join(wrong_ret.read_text().splitlines(keepends=True)[:-2]))
    gold = next(p for p in copying_run if "_gold_" in p.name)
    (tmp_path / "copier" / gold.name).write_text(gold.read_text())
    with pytest.raises(TracekdError, match=r"model copier, synth: condition wrong_ret covers different items than "
                                           r"gold: 2 only under gold \(e\.g\. synth/"):
        analyze([tmp_path / "copier" / gold.name, short])


def test_conditions_from_different_models_are_an_error(copying_run, tmp_path):
    gold = next(p for p in copying_run if "_gold_" in p.name)
    other = tmp_path / "other-model" / next(p for p in copying_run if "wrong_cls" in p.name).name
    other.parent.mkdir()
    other.write_text(next(p for p in copying_run if "wrong_cls" in p.name).read_text())
    with pytest.raises(TracekdError, match="synth conditions come from different models: gold from copier; "
                                           "wrong_cls from other-model"):
        analyze([gold, other])


def test_the_same_condition_twice_is_an_error(copying_run):
    gold = next(p for p in copying_run if "_gold_" in p.name)
    with pytest.raises(TracekdError, match="appears twice under condition gold"):
        analyze([gold, gold])


def test_the_generated_task_yamls_are_current():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(Path(tasks_dir()) / "trace_qa" / "_generate_configs.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
