"""LoRA SFT throughput and model FLOP utilisation on one GPU, packing off vs on (prepared for a lent GPU).

A randomly initialised model with Llama-3.2-1B's shapes (no download: the device has no network) is
trained in bf16 with tracekd's own SFTConfig/LoRA settings (``tracekd_train.trainer``: r 16 on all projections,
completion-only loss, batch 4) on pre-tokenised synthetic examples whose lengths follow CoTemp SFT
examples under a Llama-3 tokenizer (prompt 350-900 tokens, completion 40-160). Each mode runs
``--steps`` optimizer steps after ``--warmup`` untimed ones.

MFU = useful model FLOPs / peak dense bf16 FLOPs. LoRA leaves the base weights frozen, so a token costs
forward 2N + backward-to-inputs 2N = 4N FLOPs over the N matmul parameters (lm_head included, embedding
lookup excluded), plus attention 8 * layers * d_model * T (forward 4 L d T, backward twice that, T =
the example's own length; masked or padded work does not count). Peak: 989 TFLOP/s (H100/H200 SXM) unless
``--peak-tflops`` is given. Writes ``$OUT/gpu_train_check.json`` and prints a Markdown table for
BENCHMARKS.md. Expected wall time: about 2-4 minutes on an H100.

    python bench/gpu_train_check.py [--steps 40] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch
from transformers import TrainerCallback

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LLAMA_3_2_1B = dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                    num_attention_heads=32, num_key_value_heads=8, head_dim=64, max_position_embeddings=131072,
                    rope_theta=500000.0, tie_word_embeddings=True, bos_token_id=128000, eos_token_id=128009,
                    pad_token_id=128004)
SMOKE_SHAPES = dict(LLAMA_3_2_1B, vocab_size=2048, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, head_dim=16, bos_token_id=1, eos_token_id=2,
                    pad_token_id=3)
PEAK_TFLOPS = {"H100": 989.4, "H200": 989.4, "A100": 312.0, "L40S": 362.0}


def synthetic_examples(n: int, vocab: int, seed: int) -> list[dict[str, list[int]]]:
    """Pre-tokenised prompt-completion examples (``input_ids`` + ``completion_mask``, as TRL prepares them)."""
    import random

    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        prompt, completion = rng.randint(350, 900), rng.randint(40, 160)
        ids = [rng.randrange(1000, vocab - 1000) for _ in range(prompt + completion)]
        rows.append({"input_ids": ids, "completion_mask": [0] * prompt + [1] * completion})
    return rows


def matmul_parameters(model) -> int:
    """Parameters that take part in a matrix product per token (lm_head included, the embedding lookup not)."""
    embedding = model.get_input_embeddings().weight.numel()
    base = sum(p.numel() for name, p in model.named_parameters() if "lora_" not in name)
    return base - embedding + model.get_output_embeddings().weight.numel()


class Timer(TrainerCallback):
    """Time and non-padding tokens of the steps after warm-up."""

    def __init__(self, warmup: int):
        self.warmup = warmup
        self.start = self.seconds = 0.0
        self.tokens_at_start = self.tokens = 0

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step == self.warmup:
            _synchronize()
            self.start, self.tokens_at_start = time.perf_counter(), state.num_input_tokens_seen

    def on_train_end(self, args, state, control, **kwargs):
        _synchronize()
        self.seconds = time.perf_counter() - self.start
        self.tokens = state.num_input_tokens_seen - self.tokens_at_start


def _synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def run_mode(packing: bool, args: argparse.Namespace, shapes: dict, examples, out_dir: Path) -> dict:
    import datasets
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl import SFTTrainer

    from tracekd_train.config import config_from_values
    from tracekd_train.trainer import peft_config, sft_config

    cuda = torch.cuda.is_available()
    config = config_from_values({
        "model_name_or_path": "random-llama-3.2-1b", "output_dir": str(out_dir), "max_steps": args.warmup + args.steps,
        "per_device_train_batch_size": args.batch, "gradient_accumulation_steps": 1, "packing": packing,
        "max_length": 1024, "save_steps": 10**6, "logging_steps": 10**6, "bf16": cuda,
        "gradient_checkpointing": False})
    torch.manual_seed(0)
    with torch.device("cuda" if cuda else "cpu"):
        model = LlamaForCausalLM(LlamaConfig(**shapes, attn_implementation=args.attn))
    model = model.to(torch.bfloat16 if cuda else torch.float32)
    n_matmul = matmul_parameters(model)
    timer = Timer(args.warmup)
    sft_args = sft_config(config)
    sft_args.model_init_kwargs = None
    trainer = SFTTrainer(model=model, args=sft_args, train_dataset=datasets.Dataset.from_list(examples),
                         processing_class=tokenizer_stub(shapes), peft_config=peft_config(config), callbacks=[timer])
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    mean_length = sum(len(e["input_ids"]) for e in examples) / len(examples)
    flops_per_token = 4 * n_matmul + 8 * shapes["num_hidden_layers"] * shapes["hidden_size"] * mean_length
    tokens_per_second = timer.tokens / timer.seconds
    name = torch.cuda.get_device_name(0) if cuda else "cpu"
    peak = args.peak_tflops or next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
    return {"mode": "packing bfd" if packing else "padding", "device": name, "attn": args.attn,
            "tokens_per_second": tokens_per_second, "timed_steps": args.steps, "tokens": timer.tokens,
            "seconds": timer.seconds, "matmul_parameters": n_matmul, "flops_per_token": flops_per_token,
            "mfu": tokens_per_second * flops_per_token / (peak * 1e12) if peak else None, "peak_tflops": peak,
            "max_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else None}


def tokenizer_stub(shapes: dict):
    """A tokenizer object for TRL's bookkeeping (pad id, vocabulary check); the data are already token ids."""
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, **{f"t{i}": i for i in range(1, shapes["vocab_size"])}}
    fast = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel(vocab, unk_token="<unk>")),
                                   unk_token="<unk>")
    fast.pad_token, fast.eos_token = f"t{shapes['pad_token_id']}", f"t{shapes['eos_token_id']}"
    return fast


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="timed optimizer steps per mode")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--batch", type=int, default=4, help="per-device batch (examples or packed rows)")
    parser.add_argument("--attn", default="sdpa", help="attention implementation (sdpa, flash_attention_2)")
    parser.add_argument("--peak-tflops", type=float, help="peak dense bf16 TFLOP/s of the card")
    parser.add_argument("--out", default=os.environ.get("OUT", "."), help="folder for gpu_train_check.json")
    parser.add_argument("--smoke", action="store_true", help="tiny shapes, runs on CPU: checks the script only")
    args = parser.parse_args()

    import tempfile

    from transformers.utils import logging as hf_logging

    if not torch.cuda.is_available() and not args.smoke:
        print("gpu_train_check: no CUDA device (use --smoke to check the script on CPU)", file=sys.stderr)
        return 2
    hf_logging.set_verbosity_error()
    shapes = SMOKE_SHAPES if args.smoke else LLAMA_3_2_1B
    started = time.perf_counter()
    examples = synthetic_examples(args.batch * (args.warmup + args.steps) * 2, shapes["vocab_size"], seed=0)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for packing in (False, True):
            results.append(run_mode(packing, args, shapes, examples, Path(tmp) / str(packing)))
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    wall = time.perf_counter() - started
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_train_check.json").write_text(json.dumps({"results": results, "wall_seconds": wall,
                                                          "smoke": args.smoke}, indent=2) + "\n", encoding="utf-8")
    shape_name = "tiny smoke shapes" if args.smoke else "random Llama-3.2-1B shapes"
    print(f"\nLoRA SFT, {shape_name}, batch {args.batch}, {results[0]['device']} ({args.attn}); wall {wall:.0f} s\n")
    print("| mode | tokens/s | MFU | peak memory (GiB) | vs padding |\n|---|---|---|---|---|")
    for row in results:
        mfu = "n/a" if row["mfu"] is None else f"{100 * row['mfu']:.1f}%"
        memory = "n/a" if row["max_memory_gib"] is None else f"{row['max_memory_gib']:.1f}"
        print(f"| {row['mode']} | {row['tokens_per_second']:.0f} | {mfu} | {memory} | "
              f"{row['tokens_per_second'] / results[0]['tokens_per_second']:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
