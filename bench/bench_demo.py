"""Wall time and peak memory (RSS) of ``tracekd demo`` with the default model, on this machine.

Three runs, each a fresh process:
  1. the one-time conversion of the GGUF into a fresh cache (``tracekd demo --print-model-path``);
  2. ``tracekd demo`` with its defaults, on the converted copy (what every later run costs);
  3. the baseline: the same evaluation through the plain lm-eval CLI (``tracekd eval``, the command the demo
     prints), so the ratio shows what the demo adds on top of lm-eval (scoring, checks, tables).
The machine's load average is printed before and after: other processes on a shared CPU slow every run.

    python bench/bench_demo.py [--limit N] [--skip-conversion]
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 300.0


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB and stdout of one child process (which must succeed)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout = child.stdout.read()
    child.stdout.close()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"failed: {shlex.join(command)}")
    return wall, usage.ru_maxrss / 1024, stdout


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="problems (default: the demo's default)")
    parser.add_argument("--skip-conversion", action="store_true", help="do not time the one-time conversion")
    args = parser.parse_args()
    tracekd = [sys.executable, "-m", "tracekd_ext.cli"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    print(f"cpus: {os.cpu_count()}, load average before: {load()}")
    with tempfile.TemporaryDirectory() as scratch:
        if not args.skip_conversion:
            wall, rss, _ = measure([*tracekd, "demo", "--print-model-path"], {**env, "TRACEKD_CACHE_DIR": scratch})
            print(f"one-time conversion (GGUF -> safetensors): {wall:6.1f} s, peak RSS {rss:6.0f} MiB")
        out = Path(scratch) / "demo"
        limit = ["--limit", str(args.limit)] if args.limit else []
        demo_wall, demo_rss, stdout = measure([*tracekd, "demo", "--out", str(out), *limit], env)
        print(f"tracekd demo (converted model cached): {demo_wall:6.1f} s, peak RSS {demo_rss:6.0f} MiB"
              f"  ({demo_wall / BUDGET_S:.2f} of the 5-minute budget)")
        baseline = next(line for line in stdout.splitlines() if line.startswith("same run with lm-eval: "))
        command = shlex.split(baseline.removeprefix("same run with lm-eval: "))
        command = [*tracekd, *command[1:]]
        command[command.index("--output_path") + 1] = str(Path(scratch) / "baseline")
        base_wall, base_rss, _ = measure(command, env)
        print(f"baseline, the same run via tracekd eval (lm-eval CLI): {base_wall:6.1f} s, "
              f"peak RSS {base_rss:6.0f} MiB")
        print(f"ratio demo / baseline: time {demo_wall / base_wall:.2f}, peak RSS {demo_rss / base_rss:.2f}")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
