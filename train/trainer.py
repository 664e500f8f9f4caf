"""Fine-tuning on trace SFT data with TRL's SFTTrainer: LoRA, QLoRA or full fine-tuning.

``run(config)`` builds the dataset, checks the chat-template rendering, trains (resuming from the last
checkpoint with ``resume``), saves the adapter or model with its tokenizer, optionally a merged model,
and writes ``run.json``. The SFTTrainer gets the run's own SFTConfig, as ``trl sft`` passes it, plus what
tracekd decides when the run starts (how the model loads). torch, transformers, TRL and PEFT are imported
inside the functions that need them, so importing this module is light.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.files.outputs import write_file, write_json
from tracekd_ext.files.read import parse_json
from tracekd_train.chat_check import check_examples, check_truncation, load_chat_template, template_kwargs
from tracekd_train.config import RunConfig
from tracekd_train.deps import GPU_EXTRA, require, require_training_stack
from tracekd_train.prepared import PreparedRun
from tracekd_train.run_card import build_run_card, library_versions
from tracekd_train.sft_data import build_sft_data

RUN_CARD = "run.json"
RUN_START = "run_start.json"
TRAINER_STATE = "trainer_state.json"  # transformers' TRAINER_STATE_NAME
DATASET_FILE = "sft_train.jsonl"
MERGED_DIR = "merged"


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def precision(config: RunConfig) -> tuple[str, bool]:
    """``(weights dtype, bf16 autocast)``. ``--dtype`` unset: bfloat16 for LoRA where bf16 runs (``--bf16``
    defaults to GPU support), float32 otherwise, so full fine-tuning keeps float32 master weights."""
    bf16 = bool(config.train.bf16)
    dtype = config.model.dtype
    if dtype is None:
        dtype = "bfloat16" if bf16 and config.model.use_peft else "float32"
    return dtype, bf16


def check_method_requirements(config: RunConfig) -> None:
    """Quantised bases (QLoRA) and 8-bit optimizers need CUDA and bitsandbytes: fail before any data or model
    is loaded."""
    import torch

    quantised = config.method == "qlora"
    optim = str(getattr(config.train.optim, "value", config.train.optim))
    if quantised and not torch.cuda.is_available():
        raise TracekdError("QLoRA needs a CUDA GPU (4-bit bitsandbytes kernels); train without --load_in_4bit "
                           "here (LoRA, or full with --use_peft false)")
    sharded = [name for name in ("FSDP", "DEEPSPEED") if os.environ.get(f"ACCELERATE_USE_{name}", "").lower() == "true"]
    if quantised and sharded:
        raise TracekdError(f"QLoRA runs on one GPU or with DDP (task_configs/accelerate/ddp.yaml), not with "
                           f"{sharded[0]}; train without --load_in_4bit there")
    if quantised or "8bit" in optim:
        require("bitsandbytes", hint=GPU_EXTRA)


def model_source(name: str) -> str:
    """``--model_name_or_path`` as transformers loads it: a local folder, or a hub id; a path that does not
    exist is a one-line error."""
    local = Path(name).expanduser()
    if not local.exists() and name.startswith(("/", "./", "../", "~")):
        raise TracekdError(f"model path not found: {name}")
    return str(local) if local.exists() else name


def check_model(config: RunConfig) -> None:
    """Build the model's skeleton on the meta device (no weights read, no memory) with the run's attention
    kernel and LoRA adapter, so that a bad ``--attn_implementation`` or ``--lora_target_modules`` fails in the
    dry run and before a run writes anything, with transformers' and PEFT's own checks."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    name = config.model.model_name_or_path
    try:
        model_config = AutoConfig.from_pretrained(model_source(name), revision=config.model.model_revision,
                                                  trust_remote_code=config.train.trust_remote_code)
    except (OSError, ValueError) as err:
        raise TracekdError(f"cannot load the model config of '{name}': {str(err).splitlines()[0]}") from None
    attention = config.model.attn_implementation
    try:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(model_config, attn_implementation=attention,
                                                     trust_remote_code=config.train.trust_remote_code)
    except (ValueError, ImportError) as err:
        if attention is None:
            raise
        raise TracekdError(f"--attn_implementation {attention}: {str(err).splitlines()[0]}") from None
    lora = peft_config(config)
    if lora is None:
        return
    from peft import get_peft_model

    try:
        get_peft_model(model, lora)
    except ValueError as err:
        linear = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)})
        regex = (f"; TRL passes a single name on as a regular expression over whole module names, e.g. "
                 f"'.*\\.{lora.target_modules}$'" if isinstance(lora.target_modules, str) else "")
        raise TracekdError(f"--lora_target_modules: {str(err).splitlines()[0]} (its linear layers: "
                           f"{', '.join(linear)}{regex})") from None


def load_tokenizer(config: RunConfig) -> tuple[Any, bool]:
    """The base model's tokenizer (with ``--chat_template_path`` swapped in) and whether it was swapped."""
    from transformers import AutoTokenizer

    name = config.model.model_name_or_path
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_source(name),
                                                  revision=config.model.model_revision,
                                                  trust_remote_code=config.train.trust_remote_code)
    except (OSError, ValueError) as err:
        raise TracekdError(f"cannot load the tokenizer of '{name}': {str(err).splitlines()[0]}") from None
    if config.train.chat_template_path:
        tokenizer.chat_template = load_chat_template(config.train.chat_template_path)
    if not tokenizer.chat_template:
        raise TracekdError(f"the tokenizer of '{name}' has no chat template; pass --chat_template_path FILE.jinja "
                           "(examples are chat turns, evaluated with --apply_chat_template)")
    return tokenizer, bool(config.train.chat_template_path)


def prepare(config: RunConfig) -> PreparedRun:
    """Build the SFT data and check it under the model's chat template (no training dependencies needed)."""
    tokenizer, own_template = load_tokenizer(config)
    data = build_sft_data(config)
    template_vars, notes = template_kwargs(config.data, tokenizer.chat_template)
    if config.train.packing and config.train.packing_strategy != "wrapped" and \
            "flash" not in (config.model.attn_implementation or ""):
        notes.append("packing without a variable-length attention kernel (--attn_implementation "
                     "flash_attention_2) attends over the whole flattened batch under a block mask: correct but "
                     "slower than padding (see docs/training.md)")
    for note in notes:
        print(f"tracekd train: note: {note}")
    tokens = check_examples(tokenizer, data.examples, config.train.max_length, template_vars)
    print(f"tracekd train: {data.dataset}/{data.variant}: {tokens.summary()}")
    splits_long_examples = config.train.packing and config.train.packing_strategy != "bfd"
    check_truncation(tokens, truncates=not splits_long_examples, allowed=config.data.allow_truncation)
    if data.dropped_ids:
        print(f"tracekd train: note: {len(data.dropped_ids)} problems without a teacher trace were left out")
    return PreparedRun(config, data, tokenizer, template_vars, own_template, tokens)


def _checkpoints(output_dir: Path) -> list[Path]:
    """``checkpoint-N`` folders by step."""
    found = [p for p in output_dir.glob("checkpoint-*") if p.name.removeprefix("checkpoint-").isdigit()]
    return sorted(found, key=lambda p: int(p.name.removeprefix("checkpoint-")))


def checkpoint_problem(folder: Path) -> str | None:
    """Why a checkpoint folder cannot be resumed from, or ``None`` when it is complete. The Trainer writes
    ``trainer_state.json`` last, so a save cut off midway lacks it; a weights file cut short has a
    safetensors header that runs past the file's end."""
    state = folder / TRAINER_STATE
    if not state.is_file():
        return f"no {TRAINER_STATE} (the save was cut off)"
    try:
        data = parse_json(state.read_bytes(), path=state)
    except (OSError, DataError) as err:
        return f"{TRAINER_STATE} unreadable ({err})"
    if not isinstance(data, dict) or "global_step" not in data:
        return f"{TRAINER_STATE} holds no global_step"
    for weights in sorted(folder.glob("*.safetensors")):
        with weights.open("rb") as handle:
            head = handle.read(8)
        if len(head) < 8 or 8 + int.from_bytes(head, "little") > weights.stat().st_size:
            return f"{weights.name} is cut short"
    return None


def _resume_point(out: Path) -> Path:
    """The last complete checkpoint of ``out``, with a note for each newer one that is not complete."""
    broken = []
    for folder in reversed(_checkpoints(out)):
        problem = checkpoint_problem(folder)
        if problem is None:
            for name, why in broken:
                print(f"tracekd train: note: skipping {name}: {why}; resuming from {folder.name}")
            return folder
        broken.append((folder.name, problem))
    if broken:
        raise TracekdError(f"--resume: no complete checkpoint in {out} ("
                           + "; ".join(f"{name}: {why}" for name, why in broken) + ")")
    raise TracekdError(f"--resume: no checkpoint-* in {out} to resume from")


def check_output_dir(config: RunConfig) -> Path | None:
    """The checkpoint to resume from (``None`` for a fresh run): ``--resume_from_checkpoint PATH``, or the last
    complete one with ``--resume``; a used directory needs one of them."""
    out = Path(config.train.output_dir)
    if out.exists() and not out.is_dir():
        raise TracekdError(f"--output-dir {out}: not a folder")
    if config.train.resume_from_checkpoint:
        chosen = Path(config.train.resume_from_checkpoint)
        if not chosen.is_dir():
            raise TracekdError(f"--resume_from_checkpoint {chosen}: no such checkpoint folder")
        problem = checkpoint_problem(chosen)
        if problem is not None:
            raise TracekdError(f"--resume_from_checkpoint {chosen}: incomplete checkpoint: {problem}")
        return chosen
    found = _checkpoints(out) if out.is_dir() else []
    if config.run.resume:
        return _resume_point(out)
    if found or (out / RUN_CARD).exists():
        raise TracekdError(f"{out} already holds a run; pass --resume to continue it or choose another --output-dir")
    return None


def started_data_sha256(out: Path) -> str | None:
    """The data checksum ``run_start.json`` recorded when the run in ``out`` started (``None`` without one);
    a file that is not that JSON object is a one-line error, read before anything is written."""
    start = out / RUN_START
    if not start.is_file():
        return None
    recorded = parse_json(start.read_bytes(), path=start)
    if not isinstance(recorded, dict) or not isinstance(recorded.get("data_sha256", ""), str):
        raise DataError("expected the JSON object this run was started with (data_sha256, config); remove the file "
                        "to resume without checking the training data", path=start)
    return recorded.get("data_sha256")


def _check_resumed_data(out: Path, before: str | None, data_sha256: str) -> None:
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
    """The run's SFTConfig as the trainer gets it: how the model loads (``model_init_kwargs``, as ``trl sft``
    builds them from ModelConfig; the run's own ``--model_init_kwargs`` win), and no ``chat_template_path``,
    which :func:`load_tokenizer` has already applied and checked."""
    args = copy.copy(config.train)
    dtype, _ = precision(config)
    init_kwargs: dict[str, Any] = {"dtype": dtype, "revision": config.model.model_revision,
                                   "trust_remote_code": args.trust_remote_code}
    if config.model.attn_implementation:
        init_kwargs["attn_implementation"] = config.model.attn_implementation
    if config.method == "qlora" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        init_kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}
    args.model_init_kwargs = {**init_kwargs, **(config.train.model_init_kwargs or {})}
    args.chat_template_path = None
    return args


def peft_config(config: RunConfig) -> Any:
    """The LoRA adapter from ModelConfig (``None`` for full fine-tuning), as ``trl sft`` builds it."""
    from trl import get_peft_config

    return get_peft_config(config.model)


def quantization_config(config: RunConfig) -> Any:
    """The bitsandbytes config from ModelConfig (``None`` unless ``--load_in_4bit``/``--load_in_8bit``), as
    ``trl sft`` builds it, with the compute dtype of :func:`precision` (the paper: NF4, double quantisation,
    bf16 compute)."""
    from trl import get_quantization_config

    dtype, _ = precision(config)
    return get_quantization_config(dataclasses.replace(config.model, dtype=dtype))


def train_dataset(prepared: PreparedRun) -> Any:
    """The examples as a ``datasets.Dataset``, with the template variables TRL renders them with."""
    import datasets

    rows = prepared.data.examples
    if prepared.template_vars:
        rows = [{**row, "chat_template_kwargs": prepared.template_vars} for row in rows]
    return datasets.Dataset.from_list(rows)


def score_labelled_positions_only() -> None:
    """Make TRL's fused LM head project only the positions that have a label on every device. TRL 1.16 scores
    only those on CUDA and XPU, but every position elsewhere (so that compilers such as Neuron's see fixed tile
    shapes) and masks the prompt's afterwards: on a CPU the full-vocabulary head then costs about a third of a
    training step, most of it for prompt tokens whose loss is zero (BENCHMARKS.md, "Issue 20"). Nothing
    recompiles on a CPU, and the loss and gradients are the same sums over the labelled positions."""
    from trl.trainer import utils

    scores_only_labelled = getattr(utils, "_use_triton", None)  # the device test TRL's fused head reads
    if scores_only_labelled is None or getattr(scores_only_labelled, "tracekd_cpu", False):
        return

    def labelled_only(device) -> bool:
        return device.type == "cpu" or scores_only_labelled(device)

    labelled_only.tracekd_cpu = True
    utils._use_triton = labelled_only


def build_trainer(prepared: PreparedRun, callbacks: Sequence[Any] = ()) -> Any:
    """TRL's SFTTrainer for a prepared run (the model is loaded here)."""
    require_training_stack()
    from trl import SFTTrainer

    config = prepared.config
    score_labelled_positions_only()
    try:
        return SFTTrainer(model=config.model.model_name_or_path, args=sft_config(config),
                          train_dataset=train_dataset(prepared),
                          processing_class=prepared.tokenizer, peft_config=peft_config(config),
                          quantization_config=quantization_config(config), callbacks=list(callbacks))
    except OSError as err:
        raise TracekdError(f"cannot load model '{config.model.model_name_or_path}': {str(err).splitlines()[0]}") \
            from None


def merge_adapter(config: RunConfig, run_dir: Path, tokenizer: Any) -> Path:
    """Load the base model unquantised, merge the trained adapter into it and save it to ``run_dir/merged``."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    dtype, _ = precision(config)
    base = AutoModelForCausalLM.from_pretrained(config.model.model_name_or_path, dtype=getattr(torch, dtype),
                                                revision=config.model.model_revision,
                                                trust_remote_code=config.train.trust_remote_code)
    merged = PeftModel.from_pretrained(base, str(run_dir)).merge_and_unload()
    out = run_dir / MERGED_DIR
    merged.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def run(config: RunConfig, callbacks: Sequence[Any] = ()) -> dict[str, Any] | None:
    """Train as configured and return the run card (``None`` for a dry run)."""
    from tracekd_train.throughput import ThroughputCallback

    started = time.perf_counter()
    out = Path(config.train.output_dir)
    writes = not config.run.dry_run or config.run.save_dataset
    resume_from = check_output_dir(config) if writes else None
    started_with = started_data_sha256(out) if resume_from is not None else None
    check_method_requirements(config)
    report_to_targets(config.train.report_to)
    check_model(config)
    prepared = prepare(config)
    if config.run.save_dataset and is_main_process():
        write_file(out / DATASET_FILE, prepared.data.jsonl())
    if config.run.dry_run:
        return None
    data_sha256 = prepared.data.sha256()
    if resume_from is not None:
        _check_resumed_data(out, started_with, data_sha256)
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
    merged = merge_adapter(config, out, prepared.tokenizer) if config.run.merge else None
    card = build_run_card(prepared, trainer, result, throughput, resume_from, merged,
                          wall_seconds=time.perf_counter() - started)
    write_json(out / RUN_CARD, card)
    training = card["training"]
    print(f"tracekd train: done: {training['global_step']} steps, final loss {training['final_loss']}, "
          f"{training['tokens_per_second'] or 0:.0f} tokens/s; wrote {out / RUN_CARD}")
    if card["eval"]["command"]:
        print(f"evaluate with:\n  {card['eval']['command']}")
    return card
