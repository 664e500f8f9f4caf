"""Training throughput on CPU: packing vs padding at the same batch, in one run.

A tiny random Llama (tokenizer trained on CoTemp text) is LoRA-trained on CoTemp SFT examples with TRL,
once per batching mode, all with ``per_device_train_batch_size`` examples (padding) or packed rows
(packing) per step. The figure is non-padding tokens per second of the training loop (best of
``--repeats``), and the ratio against padding. Packing ``bfd`` flattens each batch into one sequence
without padding (``padding_free``); where no variable-length attention kernel exists (CPU, sdpa) the
attention then spans the whole flattened batch under a block mask. ``wrapped`` fills fixed rows.

    PYTHONPATH=. python bench/bench_train.py [--examples 64] [--steps 12] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

MODES = {"padding": [], "packing bfd": ["--packing", "--packing-strategy", "bfd"],
         "packing wrapped": ["--packing", "--packing-strategy", "wrapped"]}


def build_model(out: Path, data_dir: Path, hidden: int) -> Path:
    from tiny_model import build_tiny_model

    from tracekd_ext.adapters import get_spec
    from tracekd_ext.trace_format import render_prompt, render_target

    spec = get_spec("cotemp")
    corpus = [render_prompt(p, spec, instruction=True) + render_target(p, spec, "correct")
              for p in spec.load(data_dir, "train")[:50]]
    return build_tiny_model(out, corpus, hidden=hidden, layers=2)


def measure(model: Path, out: Path, data_dir: Path, args: argparse.Namespace, extra: list[str]) -> tuple[float, int]:
    """(non-padding tokens per second, tokens) of one short training run."""
    from tracekd_train.config import parse_config
    from tracekd_train.throughput import ThroughputCallback
    from tracekd_train.trainer import build_trainer, prepare

    argv = ["--model_name_or_path", str(model), "--output-dir", str(out), "--data-dir", str(data_dir),
            "--limit", str(args.examples), "--max-steps", str(args.steps), "--per-device-train-batch-size",
            str(args.batch), "--gradient-accumulation-steps", "1", "--max-length", str(args.max_length),
            "--save-steps", "1000000", "--logging-steps", "1000000", "--no-gradient-checkpointing",
            "--save_dataset", "false", *extra]
    throughput = ThroughputCallback()
    trainer = build_trainer(prepare(parse_config(argv)), [throughput])
    trainer.train()
    return throughput.tokens / throughput.seconds, throughput.tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=64, help="training problems")
    parser.add_argument("--steps", type=int, default=12, help="optimizer steps per measurement")
    parser.add_argument("--batch", type=int, default=4, help="per-device batch (examples or packed rows)")
    parser.add_argument("--max-length", type=int, default=1024, help="max_length (the packed row length)")
    parser.add_argument("--hidden", type=int, default=64, help="hidden size of the tiny model")
    parser.add_argument("--repeats", type=int, default=2, help="measurements per mode (best counts)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--data-dir", default=os.environ.get("TRACEKD_DATA_DIR", str(REPO.parent / "shared/data")))
    args = parser.parse_args()

    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    if args.threads:
        torch.set_num_threads(args.threads)
    data_dir = Path(args.data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        model = build_model(Path(tmp) / "model", data_dir, args.hidden)
        measure(model, Path(tmp) / "warmup", data_dir, argparse.Namespace(**{**vars(args), "steps": 2}), [])
        best: dict[str, tuple[float, int]] = {}
        for repeat in range(args.repeats):
            for mode, extra in MODES.items():
                result = measure(model, Path(tmp) / f"{mode}-{repeat}".replace(" ", "_"), data_dir, args, extra)
                best[mode] = max(best.get(mode, result), result)
    print(f"\nLoRA SFT of a tiny Llama (hidden {args.hidden}, 2 layers) on CPU ({torch.get_num_threads()} threads), "
          f"{args.examples} CoTemp examples, batch {args.batch}, max_length {args.max_length}, {args.steps} steps")
    baseline = best["padding"][0]
    print(f"{'mode':<16} {'tokens/s':>10} {'tokens':>8} {'vs padding':>11}")
    for mode, (rate, tokens) in best.items():
        print(f"{mode:<16} {rate:>10.0f} {tokens:>8} {rate / baseline:>10.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
