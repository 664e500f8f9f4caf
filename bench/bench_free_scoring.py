"""Benchmark: free-form scoring (``*_free`` tasks) of 10,000 CoTemp generations of about 2,000 characters each.

    python bench/bench_free_scoring.py [--data-dir ../shared/data] [--n 10000] [--chars 2000]

Prints items/s of free-form judging (final answer, reasoning, units stated, label named, hallucination, the strict
answer rule, grounding) on one core, in wall and in CPU time, best of five runs, with the compiled judge where it is
built (``tracekd_ext/free_form/_judge.c``) and once with the pure-Python judge, cold caches (every cache of the
scoring modules emptied before each timed run: per-problem unit indexes and the CoTemp answer rule's per-problem
candidates are built inside the measurement), next to strict scoring of the trace tasks on the same number of
gold-format traces (bench_scoring's baseline) in the same run. Target (issue 21): >= 5,000 items/s. The items cycle
through the problems (the local CoTemp copy has 2,385: about 4.2 generations each, as when several runs or
conditions of the same problems are re-scored in one process); a single lm-eval run has one generation per problem
and builds an index for every item.

Then adversarial prose at doubling sizes (one sentence of 10,000 dates, unclosed \\boxed{ repeated, every line an
"Answer:", clauses chained by "and", capitalised unknown words, label phrases without end, a sentence of 1,200
distinct years with clauses between them): seconds per item at each size and the ratio to the previous size
(linear: about 2; tests/test_free_form_linear.py holds the ratio of 8 times the size under 24).
"""

from __future__ import annotations

import argparse
import os
import random
import time

from bench_scoring import SCORING_MODULES, clear_module_caches

from tracekd_ext.adapters import get_spec
from tracekd_ext.free_form import match as free_match
from tracekd_ext.free_form.score import score_free
from tracekd_ext.scoring import score
from tracekd_ext.trace_format import render_target
from tracekd_ext.trace_parse import parse

OPENERS = ("Let me look at the context.", "Okay, so the question asks about overlapping periods.",
           "First I need the facts about this person.", "Looking back at the context:")
LINKS = ("The context says: {fact}", "According to the facts, {fact}", "- {fact}", "Also, {fact}",
         "I see that {fact}", "Next: {fact}")
FILLER = ("I should compare the two time spans carefully.", "Hmm, wait, let me check that again.",
          "That period starts before the other one ends.", "So these two events share some time.",
          "Let me make sure I am not missing any fact.", "This one does not fit the window.")


def paraphrase(unit: str, rng: random.Random) -> str:
    """A unit restated loosely: lower-cased start, dates reordered or shortened now and then."""
    text = unit[0].lower() + unit[1:]
    if rng.random() < 0.3:
        text = text.replace(" holds the position of ", " was ").replace(" plays for ", " played for ")
    if rng.random() < 0.3 and " from " in text and " to " in text:
        head, span = text.split(" from ", 1)
        start, end = span.rstrip(".").split(" to ", 1)
        text = f"from {start} until {end}, {head}."
    return text


def free_generation(problem, rng: random.Random, chars: int) -> str:
    """Prose of about ``chars`` characters: facts (gold and other), filler, a relation sentence, an answer line."""
    parts = [rng.choice(OPENERS)]
    units = list(problem.units)
    while sum(len(p) + 1 for p in parts) < chars - 120:
        if rng.random() < 0.6:
            parts.append(rng.choice(LINKS).format(fact=paraphrase(rng.choice(units), rng)))
        else:
            parts.append(rng.choice(FILLER))
    parts.append(f"The temporal relation is {rng.choice(('equal', 'overlap', 'during', 'mix'))}.")
    body = " ".join(parts)
    answer = ", ".join(problem.answers) if rng.random() < 0.7 else "I am not sure"
    if rng.random() < 0.3:
        return f"<think>{body}</think>\n\n\\boxed{{{answer}}}"
    return f"{body}\nAnswer: {answer}"


def adversarial_prose(size: int) -> dict[str, str]:
    """Hostile free-form generations of about ``size`` characters."""
    def fill(piece: str) -> str:
        return (piece * (size // len(piece) + 1))[:size]

    return {
        "dates": fill("March 3, 2001 and 1999-04-05 and 04/1987 and "),
        "unclosed_boxed": fill("\\boxed{\\boxed{ {"),
        "answer_lines": fill("Answer: Ann Lee\n"),
        "and_chain": fill("Ann Lee and Acme Corp and 2001 and "),
        "capitalised": fill("Zed Quux Initech Foo Bar in 2002 "),
        "labels": fill("relation overlap equal during mix not "),
        "no_spaces": fill("x" * 997 + "."),
        # one sentence of 1,200 distinct years, each clause between them borrowing all of them
        "distinct_dates": "".join(f"{1000 + i % 1200} and Ann Lee and " for i in range(size // 20 + 1))[:size],
    }


def clear_caches() -> None:
    """Each timed run starts with every cache of the scoring modules empty (strict scoring's and free-form's)."""
    clear_module_caches((*SCORING_MODULES, free_match))


def timed(run, repeat: int = 3) -> float:
    """The best wall time of ``repeat`` runs, each from empty caches."""
    return timed_both(run, repeat)[0]


def timed_both(run, repeat: int) -> tuple[float, float]:
    """The best wall time and the best CPU time of this process over ``repeat`` runs, each from empty caches (CPU
    time leaves out what other work on the machine takes from this process)."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        clear_caches()
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall, cpu = min(wall, time.perf_counter() - start), min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("TRACEKD_DATA_DIR", "../shared/data"))
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--chars", type=int, default=2_000)
    args = parser.parse_args()
    spec = get_spec("cotemp")
    problems = spec.load(args.data_dir, "all")
    rng = random.Random(0)
    chosen = [problems[i % len(problems)] for i in range(args.n)]
    gens = [free_generation(p, rng, args.chars) for p in chosen]
    traces = [render_target(p, spec, "correct") for p in chosen]
    mean_chars = sum(map(len, gens)) / len(gens)

    def free_run():
        for p, g in zip(chosen, gens, strict=True):
            score_free(p, g, spec)

    def strict_run():
        for p, g in zip(chosen, traces, strict=True):
            score(p, parse(g), spec)

    (free_s, free_cpu), strict_s = timed_both(free_run, 5), timed(strict_run)
    print(f"CPU: {os.uname().machine}, one core; {args.n} CoTemp items, {len(problems)} distinct problems")
    judge = "compiled judge" if free_match._judge is not None else "pure-Python judge (no compiled judge in use)"
    print(f"free-form scoring, {judge}: {args.n / free_s:,.0f} items/s ({mean_chars:,.0f} chars each, "
          f"{free_s:.2f} s; {args.n / free_cpu:,.0f} items/s in CPU time); target 5,000: x{args.n / free_s / 5000:.2f}")
    print(f"strict trace scoring (baseline, {sum(map(len, traces)) / len(traces):,.0f} chars each): "
          f"{args.n / strict_s:,.0f} items/s; free/strict time ratio {free_s / strict_s:.2f}")
    if free_match._judge is not None:
        free_match.use_compiled_judge(False)
        python_s = timed(free_run, 1)
        free_match.use_compiled_judge(True)
        print(f"the same with the pure-Python judge: {args.n / python_s:,.0f} items/s "
              f"(the compiled judge x{python_s / free_s:.2f})")
    print("adversarial prose (seconds per item; ratio to the previous size):")
    problem = problems[0]
    previous: dict[str, float] = {}
    for size in (125_000, 250_000, 500_000, 1_000_000):
        for name, text in adversarial_prose(size).items():
            seconds = timed(lambda text=text: score_free(problem, text, spec), repeat=2)
            ratio = f" x{seconds / previous[name]:.2f}" if name in previous else ""
            print(f"  {size:>9,} chars {name:15s} {seconds:.3f} s{ratio}")
            previous[name] = seconds


if __name__ == "__main__":
    main()
