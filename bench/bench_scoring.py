"""Benchmark: strict re-scoring of 20,000 CoTemp generations and the pair statistics over them.

    python bench/bench_scoring.py [--data-dir ../shared/data] [--n 20000]

Prints items/s of strict scoring (parse, CLS, IR, answer, grounding) on one core, next to two answer-only
baselines run on the same items in the same run: the published answer-only scorer's work per generation
(Trace_Check_QA ``evaluate_model``, the official CoTempQA rule: for every generation it reads each fact's
relation template again, then matches the candidates), and tracekd's own implementation of that rule
(``--scoring paper``'s answer), which reads the facts once per problem. Rates are CPU time of this process
(``time.process_time``, as every figure here but lm-eval's bootstrap, which runs in worker processes), so that
other work on a shared machine is not charged to it; the
runs of the three scorers alternate and the fastest of each is kept; each keeps its per-item results, as a
re-scoring does.
The cost of tracekd's statistics (2x2 counts, phi with its exact conditional CI, chi-square, Yates, Fisher) is
printed next to lm-eval's built-in ``mcc`` aggregation with its bootstrap standard error (lm-eval's default is
100,000 replicates; it re-calls sklearn per replicate, so it is timed on fewer and extrapolated).
Targets (issue 2): statistics < 50 ms for 20,000 items; strict scoring >= 10,000 items/s; (issue 20) strict
scoring at least as fast as the published answer-only scorer. The same items are then written as predictions
files and read end to end: ``tracekd rescore``'s loading and strict scoring against the published scorer reading
the files with ``json.loads``.

Then adversarial generations of about 1 MB each (quotes, escaped quotes, brackets, tags, whitespace,
repeated CLS / IR markers, the paper rule's split markers), each scored strict and paper as a trace
task and strict as a direct task, with the time per item (issue 9 section 7: scoring is linear in the
generation's length; tests/test_scoring_linear.py holds each under a generous bound).

Then adversarial datasets, each at sizes doubling (issue 18 item 5: linear in the dataset too): one CoTemp fact
of ``" holds the position of "`` repeated, read as a row, rendered, and a free-text answer scored strict and
paper with cold caches (the fact-pair templates are read from it); and two synthetic problems (``size=1``,
``split=all``) with thousands of distractors, generated and rendered.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from tracekd_ext import answer_rules, scoring, text
from tracekd_ext.adapters import cotemp_answer, get_spec
from tracekd_ext.adapters.cotemp import problem_from_row
from tracekd_ext.adapters.cotemp_answer import official_score, takes_subject
from tracekd_ext.answer_rules import paper_answer_span
from tracekd_ext.free_form import score as free_score
from tracekd_ext.metrics import summarize
from tracekd_ext.rescore import load_scored
from tracekd_ext.scoring import score
from tracekd_ext.trace_format import render_prompt, render_target
from tracekd_ext.trace_parse import parse

# every module whose caches strict scoring fills, and free-form scoring's own per-problem one
SCORING_MODULES = (answer_rules, cotemp_answer, scoring, text, free_score)


def clear_module_caches(modules) -> None:
    """Empty every cache (``functools`` caches: anything with ``cache_clear``) defined in ``modules``, so a cache
    added to one of them later is emptied too."""
    for module in modules:
        for value in vars(module).values():
            if hasattr(value, "cache_clear") and value.__module__ == module.__name__:
                value.cache_clear()


def clear_caches() -> None:
    """Every timed run starts cold: per-problem lookups are built inside the measurement."""
    clear_module_caches(SCORING_MODULES)


def best_of(repeat: int, run, cold: bool = True) -> float:
    """The fastest of ``repeat`` runs in CPU seconds (the least disturbed by other work on the machine)."""
    times = []
    for _ in range(repeat):
        if cold:
            clear_caches()
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def fastest_cpu_seconds(runs: dict[str, object], repeat: int) -> dict[str, float]:
    """The fastest CPU time of each run over ``repeat`` rounds, the runs alternating within a round and each
    starting cold (so that a burst of other work on the machine falls on all of them alike)."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for name, run in runs.items():
            clear_caches()
            start = time.process_time()
            run()
            best[name] = min(best[name], time.process_time() - start)
    return best


def published_rule(items) -> list:
    """The published answer-only scorer's work per generation (Trace_Check_QA ``evaluate_model``): the answer
    span, every fact's relation template read again for this generation, the official candidate matching."""
    scores = []
    for p, generation in items:
        cotemp_answer.fact_pairs.cache_clear()  # the published loop keeps nothing from one generation to the next
        cotemp_answer._fact_pair.cache_clear()
        scores.append(official_score(paper_answer_span(generation), p.answers, p.question, p.units,
                                     takes_subject(p.meta["triple_element"], "paper")))
    return scores


def paper_rule(items) -> list:
    """tracekd's implementation of the same rule (``--scoring paper``'s answer): facts read once per problem."""
    return [official_score(paper_answer_span(generation), p.answers, p.question, p.units,
                           takes_subject(p.meta["triple_element"], "paper")) for p, generation in items]


def write_prediction_files(items, folder: Path, per_file: int) -> list[Path]:
    """The items as predictions JSONL files (record fields + ``prediction``) of ``per_file`` lines each: a
    re-scoring reads one run's file at a time, and a run holds each problem once."""
    paths = []
    for start in range(0, len(items) - per_file + 1, per_file):
        path = folder / f"run{len(paths)}.jsonl"
        path.write_text("".join(json.dumps({**p.to_dict(), "prediction": g}, ensure_ascii=False) + "\n"
                                for p, g in items[start:start + per_file]), encoding="utf-8")
        paths.append(path)
    return paths


def published_rule_from_files(paths) -> list:
    """The published scorer end to end: each file's lines read with ``json.loads``, then its per-generation work."""
    items = []
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                items.append((SimpleNamespace(units=tuple(row["units"]), question=row["question"],
                                              answers=tuple(row["answers"]), meta=row["meta"]), row["prediction"]))
    return published_rule(items)


def rescore_files(paths) -> list:
    """``tracekd rescore --scoring strict`` in process: each file read, its records checked, every line scored."""
    return [load_scored(path, scoring="strict") for path in paths]


def strict_scores(items, spec) -> list:
    """tracekd strict: parse, CLS, IR, answer, grounding."""
    return [score(p, parse(generation), spec, "strict") for p, generation in items]


def generations(problems, spec, n, seed=0):
    """A realistic mix: gold traces, incorrect traces, answer-only text, free text, truncated output."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        p = problems[i % len(problems)]
        kind = rng.random()
        if kind < 0.4:
            generation = render_target(p, spec, "correct")
        elif kind < 0.7:
            generation = render_target(p, spec, "incorrect", seed=i)
        elif kind < 0.85:
            generation = f"<think>The temporal relation between the event in question and the event in context is: " \
                   f"{rng.choice(spec.labels)}.\nI need to use the following facts to answer the question: " \
                   f"{p.units[rng.randrange(len(p.units))]}</think> <answer>The answer is {p.answers[0]}.</answer>"
        else:
            generation = render_target(p, spec, "correct")[: rng.randrange(20, 200)]
        out.append((p, generation))
    return out


ADVERSARIAL_BYTES = 1_000_000
_CLS = "The temporal relation between the event in question and the event in context is: equal.\n"
_IR = "I need to use the following facts to answer the question: "


def adversarial_generations(size: int = ADVERSARIAL_BYTES) -> dict[str, str]:
    """Generations of about ``size`` characters built to make a careless parser backtrack or rescan."""
    def fill(unit: str, prefix: str = "", suffix: str = "") -> str:
        return prefix + unit * max(1, (size - len(prefix) - len(suffix)) // len(unit)) + suffix

    return {
        "quotes": fill("'"),
        "double and single quotes": fill("\"'"),
        "escaped quotes in a list": fill("\\'", "<think>x</think> <answer>['", "]</answer>"),
        "escaped quotes, no list": fill("\\'", "<think>x</think> <answer>'"),
        "backslashes": fill("\\", "<answer>['", "']</answer>"),
        "open strings per line": fill("'a\n", "<answer>[", "]</answer>"),
        "opening brackets": fill("[", "<answer>"),
        "nested brackets": fill("[", "<answer>") [:size // 2] + "]" * (size // 2),
        "think tags": fill("<think>"),
        "closing think tags": fill("</think>"),
        "answer tags": fill("<answer>"),
        "whitespace": fill(" "),
        "newlines in a think block": fill("\n", "<think>", "</think> <answer>x</answer>"),
        "repeated CLS markers": fill(_CLS, "<think>", "</think> <answer>x</answer>"),
        "repeated IR markers": fill(_IR, "<think>", "</think> <answer>x</answer>"),
        "CLS marker and spaces": fill(" ", "<think>" + _CLS.split(" is:")[0] + " is"),
        "IR marker and word": fill("w", "<think>I need to use the following "),
        "paper split markers": fill(" answer answer: "),
        "assistant": fill("assistant"),
    }


def adversarial_times(problem, spec) -> dict[str, dict[str, float]]:
    """Seconds to parse and score each adversarial generation: strict and paper trace, strict direct."""
    times = {}
    for name, generation in adversarial_generations().items():
        row = {}
        for mode, kind in (("strict", "trace"), ("paper", "trace"), ("strict", "direct")):
            clear_caches()
            start = time.process_time()
            score(problem, parse(generation), spec, mode, kind)
            row[f"{mode} {kind}"] = time.process_time() - start
        times[name] = row
    return times


REPEATED_PHRASE = " holds the position of "


def adversarial_cotemp_problem(size: int):
    """A CoTemp row whose first fact is ``REPEATED_PHRASE`` repeated to about ``size`` characters."""
    row = {"index": 0, "triple_element": "S1_R1_O2", "question": "Which position did Ann Lee hold?",
           "facts": [REPEATED_PHRASE * max(1, size // len(REPEATED_PHRASE)),
                     "Ann Lee holds the position of mayor in 2001."],
           "answer": ["mayor"]}
    return problem_from_row(row, "equal")


def render_all(problems, spec) -> None:
    for problem in problems:
        render_prompt(problem, spec, instruction=True)
        for variant in ("correct", "incorrect"):
            render_target(problem, spec, variant)


def adversarial_dataset_times(fact_sizes, distractor_counts) -> list[tuple[str, float]]:
    """Seconds for each adversarial dataset (see the module docstring), smallest first."""
    cotemp, synth = get_spec("cotemp"), get_spec("synth")
    rows = []
    for size in fact_sizes:
        clear_caches()
        start = time.process_time()
        problem = adversarial_cotemp_problem(size)
        render_all([problem], cotemp)
        for mode in ("strict", "paper"):
            score(problem, parse("<think>x</think> <answer>It was the mayor.</answer>"), cotemp, mode)
        rows.append((f"CoTemp fact, {len(problem.units[0]) / 1000:.1f} KB", time.process_time() - start))
    for count in distractor_counts:
        start = time.process_time()
        render_all(synth.load(None, "all", size=1, distractors=count), synth)
        rows.append((f"synth, 2 problems x {count} distractors", time.process_time() - start))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("TRACEKD_DATA_DIR", "../shared/data"))
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest is reported")
    parser.add_argument("--fact-kb", type=int, nargs="+", default=[12, 23, 46, 92],
                        help="sizes of the repeated-phrase CoTemp fact (KB)")
    parser.add_argument("--distractors", type=int, nargs="+", default=[1000, 2000, 4000, 8000],
                        help="distractor counts of the synthetic problems")
    parser.add_argument("--mcc-replicates", type=int, default=200,
                        help="bootstrap replicates actually run for lm-eval's mcc (extrapolated to 100,000)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    spec = get_spec("cotemp")
    problems = list(spec.load(args.data_dir, "all"))
    items = generations(problems, spec, args.n)

    seconds = fastest_cpu_seconds({"published": lambda: published_rule(items), "paper": lambda: paper_rule(items),
                                   "strict": lambda: strict_scores(items, spec)}, args.repeat)
    published_rate, paper_rate, strict_rate = (args.n / seconds[name] for name in ("published", "paper", "strict"))
    with tempfile.TemporaryDirectory() as folder:
        paths = write_prediction_files(items, Path(folder), len(problems))
        n_files = len(paths) * len(problems)
        seconds = fastest_cpu_seconds({"published": lambda: published_rule_from_files(paths),
                                       "rescore": lambda: rescore_files(paths)}, args.repeat)
    published_file_rate, rescore_rate = n_files / seconds["published"], n_files / seconds["rescore"]
    scores = [score(p, parse(generation), spec, "strict") for p, generation in items]
    stats_ms = best_of(args.repeat, lambda: summarize(scores, "trace"), cold=False) * 1000

    from lm_eval.api.metrics import bootstrap_stderr, matthews_corrcoef

    pairs = [(int(s.answer_correct), int(bool(s.trace_correct))) for s in scores]
    start = time.perf_counter()  # wall clock here: lm-eval's bootstrap runs in worker processes
    matthews_corrcoef(pairs)
    mcc_once = time.perf_counter() - start
    start = time.perf_counter()
    bootstrap_stderr(matthews_corrcoef, pairs, iters=args.mcc_replicates)
    per_replicate = (time.perf_counter() - start) / args.mcc_replicates
    mcc_default_s = mcc_once + per_replicate * 100_000

    print(f"items: {args.n} generations over {len(problems)} CoTemp problems; CPU time, fastest of {args.repeat} "
          "alternating runs, per-problem caches cleared before each run")
    print(f"published answer-only scorer (answer span + official match, facts read per generation): "
          f"{published_rate:10,.0f} items/s")
    print(f"tracekd paper answer rule (the same rule, facts read once per problem):                 "
          f"{paper_rate:10,.0f} items/s")
    print(f"tracekd strict (parse, CLS, IR, answer, grounding):                                     "
          f"{strict_rate:10,.0f} items/s")
    print(f"ratio strict / published scorer {strict_rate / published_rate:.2f}x (target >= 1.0); strict / tracekd's "
          f"paper answer rule {strict_rate / paper_rate:.2f}x; strict target >= 10,000/s")
    print(f"end to end over {len(paths)} predictions files of {len(problems)} lines (a run holds each problem once): "
          f"published scorer (json.loads + its work) {published_file_rate:,.0f} items/s, tracekd rescore strict "
          f"(read, check records, score) {rescore_rate:,.0f} items/s, ratio {rescore_rate / published_file_rate:.2f}x")
    print(f"tracekd statistics (3 pairs: counts, phi + exact CI, chi2, Yates, Fisher, 8 means + CIs): "
          f"{stats_ms:.1f} ms (target < 50 ms)")
    print(f"lm-eval mcc aggregation: {mcc_once * 1000:.1f} ms once; bootstrap stderr {per_replicate * 1000:.2f} ms "
          f"per replicate -> {mcc_default_s:,.0f} s at the default 100,000 replicates "
          f"(measured on {args.mcc_replicates}); tracekd statistics are {mcc_default_s * 1000 / stats_ms:,.0f}x faster")
    print(f"\nadversarial generations (~{ADVERSARIAL_BYTES / 1e6:.0f} MB each), CPU seconds per item:")
    print(f"{'input':28s} {'strict trace':>13s} {'paper trace':>12s} {'strict direct':>14s}")
    for name, row in adversarial_times(problems[0], spec).items():
        print(f"{name:28s} " + " ".join(f"{t:{w}.3f}" for t, w in zip(row.values(), (13, 12, 14), strict=True)))
    print("\nadversarial datasets (read, rendered, scored / generated, rendered), CPU seconds:")
    for name, seconds in adversarial_dataset_times([kb * 1000 for kb in args.fact_kb], args.distractors):
        print(f"{name:40s} {seconds:8.3f}")


if __name__ == "__main__":
    main()
