"""Benchmark: loading the full bAbI (all 20 tasks, 40 files, every question) and building all records.

    python bench/bench_babi_load.py [--data-dir ../shared/data] [--repeats 3]

Prints the best of ``--repeats`` cold loads of ``babi.load(data_dir, "all", tasks="all",
all_questions=True)`` (parse, content ids, Problem records), next to a baseline in the same run: reading
the 40 files and splitting them into lines and fields, which no parser can beat. Target (issue 3): < 2 s.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from tracekd_ext.adapters import babi

TARGET_S = 2.0


def baseline(folder: Path) -> int:
    """Read every file and split each line into its id, text and tab fields; returns the question count."""
    questions = 0
    for path in sorted(folder.glob("qa*_*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            questions += len(line.partition(" ")[2].split("\t")) == 3
    return questions


def best_of(repeats: int, run) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    default = os.environ.get("TRACEKD_DATA_DIR") or str(Path(__file__).resolve().parents[2] / "shared" / "data")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=default)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = Path(args.data_dir) / "babi" / "en"

    base_s, questions = best_of(args.repeats, lambda: baseline(folder))
    load_s, problems = best_of(args.repeats, lambda: babi.load(args.data_dir, "all", tasks="all", all_questions=True))
    units = sum(len(p.units) for p in problems)
    print(f"bAbI en: {len(list(folder.glob('qa*_*.txt')))} files, {len(problems):,} problems "
          f"({questions:,} question lines), {units:,} units in all")
    print(f"baseline (read + split lines and fields):  {base_s:6.3f} s")
    print(f"babi.load, all tasks, all questions:       {load_s:6.3f} s "
          f"({load_s / base_s:.1f}x the baseline; {load_s / TARGET_S:.0%} of the {TARGET_S:.0f} s target: "
          f"{'met' if load_s < TARGET_S else 'MISSED'})")
    print(f"records per second:                        {len(problems) / load_s:10,.0f}")


if __name__ == "__main__":
    main()
