"""Run the paper's training matrix on a GPU machine: train, evaluate, re-score, report.

For every run config in ``task_configs/sft/paper/<model>/<dataset>-<variant>.yaml`` (filtered by the
options): ``tracekd train`` (skipped when ``run.json`` exists; continued with ``--resume`` when only
checkpoints exist), then ``tracekd eval`` with the command the run card records (the evaluated prompt is
the trained one), then ``tracekd rescore`` with strict and paper scoring, then the same evaluation on the dataset's
trace interventions (``<dataset>_intervene``: forced gold / corrupted traces, docs/interventions.md) and
their paired analysis, and finally a Markdown and JSON report over all finished runs. Datasets whose adapter is
not registered are skipped with a note.

    python task_configs/run_paper_matrix.py --models qwen3-1.7b --datasets cotemp --dry-run
    python task_configs/run_paper_matrix.py \
        --launcher "accelerate launch --config_file task_configs/accelerate/ddp.yaml --num_processes 2"
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tracekd_ext.task_registry import INTERVENTION_GROUPS

HERE = Path(__file__).resolve().parent
PAPER = HERE / "sft" / "paper"
SCORINGS = ("strict", "paper")


def tracekd(*args: str) -> list[str]:
    return [sys.executable, "-m", "tracekd_ext.cli", *args]


def selected_configs(models: list[str] | None, datasets: list[str] | None, variants: list[str] | None) -> list[Path]:
    out = []
    for path in sorted(PAPER.glob("*/*.yaml")):
        model, (dataset, variant) = path.parent.name, path.stem.split("-", 1)
        if all(chosen is None or value in chosen for value, chosen in
               ((model, models), (dataset, datasets), (variant, variants))):
            out.append(path)
    return out


def config_values(path: Path) -> dict[str, Any]:
    """The option values of one run file (complete: no includes)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def step(command: list[str], dry_run: bool) -> None:
    print("+", shlex.join(command), flush=True)
    if not dry_run:
        subprocess.run(command, check=True)


def train_command(path: Path, run_dir: Path, launcher: str | None) -> list[str]:
    resume = ["--resume"] if any(run_dir.glob("checkpoint-*")) else []
    if launcher:
        return [*shlex.split(launcher), "-m", "tracekd_train", "--config", str(path), *resume]
    return tracekd("train", "--config", str(path), *resume)


def samples_file(eval_dir: Path) -> Path | None:
    found = sorted(p for p in eval_dir.rglob("samples_*.jsonl") if "_intervene_" not in p.name)
    return found[-1] if found else None


def intervention_argv(argv: list[str], dataset: str) -> list[str]:
    """The run card's evaluation arguments with ``--tasks`` replaced by the dataset's intervention group."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--tasks":
            skip = True
        elif not arg.startswith("--tasks="):
            out.append(arg)
    return [*out, "--tasks", INTERVENTION_GROUPS[dataset]]


def run_interventions(card: dict[str, Any], eval_dir: Path, args: argparse.Namespace) -> None:
    """Evaluate the run on its dataset's intervention tasks and write the paired analysis."""
    if card["dataset"] not in INTERVENTION_GROUPS:
        return
    out_dir = eval_dir / "interventions"
    found = sorted(out_dir.rglob("samples_*_intervene_*.jsonl"))
    if not found:
        step(tracekd("eval", *intervention_argv(card["eval"]["argv"], card["dataset"]), "--output_path",
                     str(out_dir), "--log_samples", "--batch_size", args.eval_batch_size,
                     *shlex.split(args.eval_args)), args.dry_run)
        found = sorted(out_dir.rglob("samples_*_intervene_*.jsonl"))
    summary = eval_dir / "interventions.json"
    if found and not summary.is_file():
        free = samples_file(eval_dir)
        step(tracekd("rescore", *map(str, found), *([str(free)] if free else []), "--output", str(summary)),
             args.dry_run)


def run_one(path: Path, args: argparse.Namespace) -> None:
    values = config_values(path)
    run_dir = Path(values["output_dir"])
    card_path = run_dir / "run.json"
    if not card_path.is_file():
        step(train_command(path, run_dir, args.launcher), args.dry_run)
    if args.dry_run and not card_path.is_file():
        print(f"  (then tracekd eval with {card_path}'s eval.argv, tracekd rescore, and the interventions)")
        return
    card = json.loads(card_path.read_text(encoding="utf-8"))
    if card["eval"]["argv"] is None:
        print(f"  no registered task evaluates {card['dataset']}/{card['variant']}; skipping evaluation")
        return
    eval_dir = run_dir / "eval"
    if samples_file(eval_dir) is None:
        step(tracekd("eval", *card["eval"]["argv"], "--output_path", str(eval_dir), "--log_samples",
                     "--batch_size", args.eval_batch_size, *shlex.split(args.eval_args)), args.dry_run)
    samples = samples_file(eval_dir)
    for scoring in SCORINGS:
        out = eval_dir / f"rescore_{scoring}.json"
        if samples is not None and not out.is_file():
            step(tracekd("rescore", str(samples), "--scoring", scoring, "--output", str(out)), args.dry_run)
    run_interventions(card, eval_dir, args)


def _cell(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def report(configs: list[Path], out_dir: Path) -> Path:
    """A table over the finished runs: answer and trace accuracy, the trace-answer 2x2 statistics."""
    rows = []
    for path in configs:
        eval_dir = Path(config_values(path)["output_dir"]) / "eval"
        for scoring in SCORINGS:
            summary_path = eval_dir / f"rescore_{scoring}.json"
            if not summary_path.is_file():
                continue
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
            metrics, pair = summary["metrics"], summary.get("pairs", {}).get("trace", {})
            rows.append({"model": path.parent.name, "run": path.stem, "scoring": scoring, "n": summary["n"],
                         "answer_acc": metrics["answer_acc"]["mean"],
                         "trace_acc": metrics.get("trace_acc", {}).get("mean"), "tt_share": pair.get("tt_share"),
                         "phi": pair.get("phi"), "chi2": pair.get("chi2"), "fisher_p": pair.get("fisher_p")})
    columns = ["model", "run", "scoring", "n", "answer_acc", "trace_acc", "tt_share", "phi", "chi2", "fisher_p"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row[c]) for c in columns) + " |" for row in rows]
    lines += intervention_lines(configs)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    (out_dir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out_dir / "report.md"


def intervention_lines(configs: list[Path]) -> list[str]:
    """The paired intervention analysis of every finished run: accuracy per condition and the reading."""
    lines = []
    for path in configs:
        summary_path = Path(config_values(path)["output_dir"]) / "eval" / "interventions.json"
        if not summary_path.is_file():
            continue
        for run in json.loads(summary_path.read_text(encoding="utf-8"))["runs"]:
            accs = ", ".join(f"{name} {_cell(c['answer_acc'])}" for name, c in run["conditions"].items())
            lines.append(f"- {path.parent.name} {path.stem}: {accs}. {run['reading']}.")
    return ["", "## Interventions (answer accuracy per forced trace)", "", *lines] if lines else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", help="model folders under task_configs/sft/paper (default: all)")
    parser.add_argument("--datasets", nargs="+", help="cotemp, babi, marco (default: all registered)")
    parser.add_argument("--variants", nargs="+", help="answer, cls, correct, incorrect (default: all)")
    parser.add_argument("--launcher", help="prefix for training, e.g. 'accelerate launch --config_file ...' "
                                           "(default: tracekd train in this process's Python)")
    parser.add_argument("--eval-batch-size", default="auto", help="lm-eval --batch_size")
    parser.add_argument("--eval-args", default="", help="more lm-eval arguments, e.g. '--limit 50'")
    parser.add_argument("--report-dir", default="runs/paper", help="where report.md and report.json go")
    parser.add_argument("--dry-run", action="store_true", help="print the commands without running them")
    args = parser.parse_args(argv)

    from tracekd_ext.adapters import DATASETS

    configs = selected_configs(args.models, args.datasets, args.variants)
    missing = sorted({p.stem.split("-", 1)[0] for p in configs} - set(DATASETS))
    if missing:
        print(f"skipping datasets without a registered adapter: {', '.join(missing)}")
    configs = [p for p in configs if p.stem.split("-", 1)[0] in DATASETS]
    if not configs:
        print("no run configs selected", file=sys.stderr)
        return 2
    for path in configs:
        print(f"== {path.relative_to(HERE)}", flush=True)
        run_one(path, args)
    if not args.dry_run:
        print(f"report: {report(configs, Path(args.report_dir))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
