"""Benchmark: strict re-scoring of 20,000 CoTemp generations and the pair statistics over them.

    python bench/bench_scoring.py [--data-dir ../shared/data] [--n 20000]

Prints items/s of strict scoring (parse, CLS, IR, answer, grounding) on one core, next to the
paper's answer-only CoTemp rule run on the same items, and the cost of tracekd's statistics
(2x2 counts, phi with a 10,000-replicate multinomial bootstrap CI, chi-square, Yates, Fisher) next to
lm-eval's built-in ``mcc`` aggregation with its bootstrap standard error (lm-eval's default is
100,000 replicates; it re-calls sklearn per replicate, so it is timed on fewer and extrapolated).
Targets (issue 2): statistics < 50 ms for 20,000 items; strict scoring >= 10,000 items/s.
"""

from __future__ import annotations

import argparse
import os
import random
import time

from tracekd_ext import answer_rules, cotemp_answer, scoring, text
from tracekd_ext.adapters import get_spec
from tracekd_ext.answer_rules import paper_answer_span
from tracekd_ext.cotemp_answer import official_score, takes_subject
from tracekd_ext.metrics import summarize
from tracekd_ext.scoring import score
from tracekd_ext.trace_format import render_target
from tracekd_ext.trace_parse import parse

CACHES = (text.normalize_answer, answer_rules.gold_set, cotemp_answer.fact_pairs, cotemp_answer._strict_candidates,
          scoring._unit_index, scoring._gold_steps)


def clear_caches() -> None:
    """Every timed run starts cold: per-problem lookups are built inside the measurement."""
    for cached in CACHES:
        cached.cache_clear()


def best_of(repeat: int, run, cold: bool = True) -> float:
    """The fastest of ``repeat`` runs in seconds (the least disturbed by other work on the machine)."""
    times = []
    for _ in range(repeat):
        if cold:
            clear_caches()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("TRACEKD_DATA_DIR", "../shared/data"))
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest is reported")
    parser.add_argument("--mcc-replicates", type=int, default=200,
                        help="bootstrap replicates actually run for lm-eval's mcc (extrapolated to 100,000)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    spec = get_spec("cotemp")
    problems = list(spec.load(args.data_dir, "all"))
    items = generations(problems, spec, args.n)

    def paper_rule():
        for p, generation in items:
            official_score(paper_answer_span(generation), p.answers, p.question, p.units,
                           takes_subject(p.meta["triple_element"], "paper"))

    paper_rate = args.n / best_of(args.repeat, paper_rule)
    strict_rate = args.n / best_of(args.repeat, lambda: [score(p, parse(g), spec, "strict") for p, g in items])
    scores = [score(p, parse(generation), spec, "strict") for p, generation in items]
    stats_ms = best_of(args.repeat, lambda: summarize(scores, "trace"), cold=False) * 1000

    from lm_eval.api.metrics import bootstrap_stderr, matthews_corrcoef

    pairs = [(int(s.answer_correct), int(bool(s.trace_correct))) for s in scores]
    start = time.perf_counter()
    matthews_corrcoef(pairs)
    mcc_once = time.perf_counter() - start
    start = time.perf_counter()
    bootstrap_stderr(matthews_corrcoef, pairs, iters=args.mcc_replicates)
    per_replicate = (time.perf_counter() - start) / args.mcc_replicates
    mcc_default_s = mcc_once + per_replicate * 100_000

    print(f"items: {args.n} generations over {len(problems)} CoTemp problems; best of {args.repeat} runs, "
          "per-problem caches cleared before each scoring run")
    print(f"paper answer-only rule (parse + official match):  {paper_rate:10,.0f} items/s")
    print(f"tracekd strict (parse, CLS, IR, answer, grounding): {strict_rate:10,.0f} items/s "
          f"(ratio {strict_rate / paper_rate:.2f}x the paper rule; target >= 10,000/s)")
    print(f"tracekd statistics (3 pairs: counts, phi + 10k bootstrap CI, chi2, Yates, Fisher, 8 means + CIs): "
          f"{stats_ms:.1f} ms (target < 50 ms)")
    print(f"lm-eval mcc aggregation: {mcc_once * 1000:.1f} ms once; bootstrap stderr {per_replicate * 1000:.2f} ms "
          f"per replicate -> {mcc_default_s:,.0f} s at the default 100,000 replicates "
          f"(measured on {args.mcc_replicates}); tracekd statistics are {mcc_default_s * 1000 / stats_ms:,.0f}x faster")


if __name__ == "__main__":
    main()
