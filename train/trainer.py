"""Fine-tuning on trace SFT data with TRL's SFTTrainer: LoRA, QLoRA or full fine-tuning.

``run(config)`` builds the dataset, checks the chat-template rendering, trains (resuming from the last
checkpoint with ``resume``), saves the adapter or model with its tokenizer, optionally a merged model,
and writes ``run.json``. TRL, PEFT and accelerate are imported only here, when a run needs them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from tracekd_ext.errors import TracekdError
from tracekd_ext.files.outputs import write_file, write_json
from tracekd_train.chat_check import check_examples, check_truncation, load_chat_template, template_kwargs
from tracekd_train.config import RunConfig
from tracekd_train.deps import GPU_EXTRA, require, require_training_stack
from tracekd_train.prepared import PreparedRun
from tracekd_train.run_card import build_run_card, library_versions
from tracekd_train.sft_data import build_sft_data

RUN_CARD = "run.json"
RUN_START = "run_start.json"
DATASET_FILE = "sft_train.jsonl"
MERGED_DIR = "merged"


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _bf16_available() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def precision(config: RunConfig) -> tuple[str, bool]:
    """``(weights dtype, bf16 autocast)``: bf16 where the GPU supports it, float32 otherwise; full
    fine-tuning keeps float32 master weights."""
    bf16 = _bf16_available() if config.train.bf16 is None else config.train.bf16
    dtype = config.model.dtype
    if dtype == "auto":
        dtype = "bfloat16" if bf16 and config.model.method != "full" else "float32"
    return dtype, bf16


def check_method_requirements(config: RunConfig) -> None:
    """QLoRA and 8-bit optimizers need CUDA and bitsandbytes: fail before any data or model is loaded."""
    import torch

    needs_bnb = config.model.method == "qlora" or "8bit" in (config.train.optim or "")
    if config.model.method == "qlora" and not torch.cuda.is_available():
        raise TracekdError("QLoRA needs a CUDA GPU (4-bit bitsandbytes kernels); use --method lora or full here")
    sharded = [name for name in ("FSDP", "DEEPSPEED") if os.environ.get(f"ACCELERATE_USE_{name}", "").lower() == "true"]
    if config.model.method == "qlora" and sharded:
        raise TracekdError(f"QLoRA runs on one GPU or with DDP (task_configs/accelerate/ddp.yaml), not with "
                           f"{sharded[0]}; use --method lora or full there")
    if needs_bnb:
        require("bitsandbytes", hint=GPU_EXTRA)


def load_tokenizer(config: RunConfig) -> tuple[Any, bool]:
    """The base model's tokenizer (with ``--chat-template`` swapped in) and whether it was swapped."""
    from transformers import AutoTokenizer

    name = config.model.model
    local = Path(name).expanduser()
    if not local.exists() and name.startswith(("/", "./", "../", "~")):
        raise TracekdError(f"model path not found: {name}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(local) if local.exists() else name,
                                                  trust_remote_code=config.model.trust_remote_code)
    except (OSError, ValueError) as err:
        raise TracekdError(f"cannot load the tokenizer of '{name}': {str(err).splitlines()[0]}") from None
    if config.model.chat_template:
        tokenizer.chat_template = load_chat_template(config.model.chat_template)
    if not tokenizer.chat_template:
        raise TracekdError(f"the tokenizer of '{name}' has no chat template; pass --chat-template FILE.jinja "
                           "(examples are chat turns, evaluated with --apply_chat_template)")
    return tokenizer, bool(config.model.chat_template)


def prepare(config: RunConfig) -> PreparedRun:
    """Build the SFT data and check it under the model's chat template (no training dependencies needed)."""
    tokenizer, own_template = load_tokenizer(config)
    data = build_sft_data(config)
    template_vars, notes = template_kwargs(config.model, tokenizer.chat_template)
    if config.train.packing and config.train.packing_strategy != "wrapped" and \
            "flash" not in (config.model.attn_implementation or ""):
        notes.append("packing without a variable-length attention kernel (--attn-implementation "
                     "flash_attention_2) attends over the whole flattened batch under a block mask: correct but "
                     "slower than padding (see docs/training.md)")
    for note in notes:
        print(f"tracekd train: note: {note}")
    tokens = check_examples(tokenizer, data.examples, config.train.max_length, template_vars)
    print(f"tracekd train: {data.dataset}/{data.variant}: {tokens.summary()}")
    splits_long_examples = config.train.packing and config.train.packing_strategy != "bfd"
    check_truncation(tokens, truncates=not splits_long_examples, allowed=config.train.allow_truncation)
    if data.dropped_ids:
        print(f"tracekd train: note: {len(data.dropped_ids)} problems without a teacher trace were left out")
    return PreparedRun(config, data, tokenizer, template_vars, own_template, tokens)


def _checkpoints(output_dir: Path) -> list[Path]:
    """``checkpoint-N`` folders by step."""
    found = [p for p in output_dir.glob("checkpoint-*") if p.name.removeprefix("checkpoint-").isdigit()]
    return sorted(found, key=lambda p: int(p.name.removeprefix("checkpoint-")))


def check_output_dir(config: RunConfig) -> Path | None:
    """The checkpoint to resume from (``None`` for a fresh run); a used directory needs ``resume``."""
    out = Path(config.train.output_dir)
    if out.exists() and not out.is_dir():
        raise TracekdError(f"--output-dir {out}: not a folder")
    found = _checkpoints(out) if out.is_dir() else []
    if config.train.resume:
        if not found:
            raise TracekdError(f"--resume: no checkpoint-* in {out} to resume from")
        return found[-1]
    if found or (out / RUN_CARD).exists():
        raise TracekdError(f"{out} already holds a run; pass --resume to continue it or choose another --output-dir")
    return None


def _check_resumed_data(out: Path, data_sha256: str) -> None:
    start = out / RUN_START
    if start.is_file():
        before = json.loads(start.read_text(encoding="utf-8")).get("data_sha256")
        if before not in (None, data_sha256):
            raise TracekdError(f"--resume: the training data differ from the data {out} was started with "
                               f"(sha256 {before[:12]}... now {data_sha256[:12]}...)")


def report_to_targets(names: Sequence[str]) -> list[str]:
    """The loggers to report to; one whose package is missing is an error."""
    import importlib.util

    chosen = [n for n in names if n != "none"]
    for name in chosen:
        alternative = importlib.util.find_spec("tensorboardX") if name == "tensorboard" else None
        if importlib.util.find_spec(name) is None and alternative is None:
            raise TracekdError(f"--report-to {name} needs the '{name}' package (pip install {name})")
    return chosen or ["none"]


def sft_config(config: RunConfig) -> Any:
    """TRL's SFTConfig for this run."""
    import torch
    from trl import SFTConfig

    t, m = config.train, config.model
    dtype, bf16 = precision(config)
    init_kwargs: dict[str, Any] = {"dtype": dtype, "trust_remote_code": m.trust_remote_code}
    if m.attn_implementation:
        init_kwargs["attn_implementation"] = m.attn_implementation
    if m.method == "qlora" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        init_kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}
    optim = t.optim or ("paged_adamw_8bit" if m.method == "qlora" else "adamw_torch")
    return SFTConfig(
        output_dir=t.output_dir, seed=t.seed, learning_rate=t.learning_rate, lr_scheduler_type=t.lr_scheduler_type,
        warmup_steps=t.warmup_ratio, per_device_train_batch_size=t.per_device_train_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps, num_train_epochs=t.num_train_epochs,
        max_steps=t.max_steps, max_length=t.max_length, packing=t.packing, packing_strategy=t.packing_strategy,
        completion_only_loss=t.loss == "completion", optim=optim, weight_decay=t.weight_decay,
        max_grad_norm=t.max_grad_norm, bf16=bf16, fp16=False, activation_checkpointing=t.gradient_checkpointing,
        dataloader_pin_memory=torch.cuda.is_available(),
        logging_steps=t.logging_steps, logging_first_step=True, save_strategy="steps", save_steps=t.save_steps,
        save_total_limit=t.save_total_limit, report_to=report_to_targets(t.report_to),
        include_num_input_tokens_seen="non_padding", model_init_kwargs=init_kwargs)


def peft_config(config: RunConfig) -> Any:
    """The LoRA adapter (``None`` for full fine-tuning)."""
    if config.model.method == "full":
        return None
    from peft import LoraConfig

    m = config.model
    return LoraConfig(r=m.lora_r, lora_alpha=m.lora_alpha, lora_dropout=m.lora_dropout,
                      target_modules=list(m.lora_target_modules), bias="none", task_type="CAUSAL_LM")


def quantization_config(config: RunConfig) -> Any:
    """4-bit NF4 with double quantisation and bf16 compute (QLoRA), else ``None``."""
    if config.model.method != "qlora":
        return None
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)


def train_dataset(prepared: PreparedRun) -> Any:
    """The examples as a ``datasets.Dataset``, with the template variables TRL renders them with."""
    import datasets

    rows = prepared.data.examples
    if prepared.template_vars:
        rows = [{**row, "chat_template_kwargs": prepared.template_vars} for row in rows]
    return datasets.Dataset.from_list(rows)


class ThroughputCallback(TrainerCallback):
    """Wall time, tokens and steps of this session's training loop (a resumed run counts from its checkpoint)."""

    def __init__(self) -> None:
        self.start = self.seconds = 0.0
        self.tokens_at_start = self.tokens = self.step_at_start = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.start, self.tokens_at_start, self.step_at_start = (time.perf_counter(), state.num_input_tokens_seen,
                                                                state.global_step)

    def on_train_end(self, args, state, control, **kwargs):
        self.seconds = time.perf_counter() - self.start
        self.tokens = state.num_input_tokens_seen - self.tokens_at_start


def build_trainer(prepared: PreparedRun, callbacks: Sequence[Any] = ()) -> Any:
    """TRL's SFTTrainer for a prepared run (the model is loaded here)."""
    require_training_stack()
    from trl import SFTTrainer

    config = prepared.config
    try:
        return SFTTrainer(model=config.model.model, args=sft_config(config), train_dataset=train_dataset(prepared),
                          processing_class=prepared.tokenizer, peft_config=peft_config(config),
                          quantization_config=quantization_config(config), callbacks=list(callbacks))
    except OSError as err:
        raise TracekdError(f"cannot load model '{config.model.model}': {str(err).splitlines()[0]}") from None


def merge_adapter(config: RunConfig, run_dir: Path, tokenizer: Any) -> Path:
    """Load the base model unquantised, merge the trained adapter into it and save it to ``run_dir/merged``."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    dtype, _ = precision(config)
    base = AutoModelForCausalLM.from_pretrained(config.model.model, dtype=getattr(torch, dtype),
                                                trust_remote_code=config.model.trust_remote_code)
    merged = PeftModel.from_pretrained(base, str(run_dir)).merge_and_unload()
    out = run_dir / MERGED_DIR
    merged.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def run(config: RunConfig, callbacks: Sequence[Any] = ()) -> dict[str, Any] | None:
    """Train as configured and return the run card (``None`` for a dry run)."""
    started = time.perf_counter()
    out = Path(config.train.output_dir) if config.train.output_dir else None
    resume_from = check_output_dir(config) if out is not None else None
    check_method_requirements(config)
    prepared = prepare(config)
    if out is not None and config.data.save_dataset and is_main_process():
        write_file(out / DATASET_FILE, prepared.data.jsonl())
    if config.train.dry_run:
        return None
    data_sha256 = prepared.data.sha256()
    if resume_from is not None:
        _check_resumed_data(out, data_sha256)
    elif is_main_process():
        write_json(out / RUN_START, {"data_sha256": data_sha256, "config": config.to_dict(),
                                            "versions": library_versions()})
    throughput = ThroughputCallback()
    trainer = build_trainer(prepared, [*callbacks, throughput])
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    trainer.save_model(str(out))
    if not (trainer.is_world_process_zero() and is_main_process()):
        return None
    prepared.tokenizer.save_pretrained(out)
    merged = merge_adapter(config, out, prepared.tokenizer) if config.train.merge else None
    card = build_run_card(prepared, trainer, result, throughput, resume_from, merged,
                          wall_seconds=time.perf_counter() - started)
    write_json(out / RUN_CARD, card)
    training = card["training"]
    print(f"tracekd train: done: {training['global_step']} steps, final loss {training['final_loss']}, "
          f"{training['tokens_per_second'] or 0:.0f} tokens/s; wrote {out / RUN_CARD}")
    if card["eval"]["command"]:
        print(f"evaluate with:\n  {card['eval']['command']}")
    return card
