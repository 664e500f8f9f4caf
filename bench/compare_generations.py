"""Compare two lm-eval runs' generations item by item: ``python bench/compare_generations.py RUN_A RUN_B``.

RUN_A and RUN_B are ``--output_path`` folders of runs with ``--log_samples`` over the same tasks and items.
Prints, per task, how many items generated the same text and each metric of both runs' results; exit status 1
when any generation differs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def samples(run: Path) -> dict[str, dict[int, str]]:
    """task -> doc id -> the generation, from every samples file under ``run``."""
    found: dict[str, dict[int, str]] = {}
    for path in sorted(run.rglob("samples_*.jsonl")):
        task = path.name.removeprefix("samples_").rsplit("_", 1)[0]
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            found.setdefault(task, {})[row["doc_id"]] = row["resps"][0][0]
    return found


def results(run: Path) -> dict[str, dict]:
    return json.loads(max(run.rglob("results_*.json")).read_text(encoding="utf-8"))["results"]


def main(a: Path, b: Path) -> int:
    gen_a, gen_b = samples(a), samples(b)
    res_a, res_b = results(a), results(b)
    differ = 0
    for task in sorted(gen_a.keys() & gen_b.keys()):
        ids = sorted(gen_a[task].keys() & gen_b[task].keys())
        same = sum(gen_a[task][i] == gen_b[task][i] for i in ids)
        differ += len(ids) - same
        print(f"{task}: {same}/{len(ids)} generations identical")
        for key, value in sorted(res_a.get(task, {}).items()):
            if not key.endswith("_stderr,none") and key != "alias":
                print(f"  {key}: {value} | {res_b.get(task, {}).get(key)}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
