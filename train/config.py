"""Training configuration: one dataclass per concern, each field a CLI flag and a YAML key.

``--config A.yaml [B.yaml ...]`` is applied first (later files override earlier ones; a file may
``include:`` other files, relative to itself), then the flags given on the command line. Flags take
both spellings, ``--max-steps`` and ``--max_steps``. Only the standard library is imported here, so
``--help`` works without the training extras.
"""

from __future__ import annotations

import argparse
import functools
import json
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from tracekd_ext import options as ranges
from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.files.read import read_text
from tracekd_ext.trace_format import PERTURBABLE_STEPS, VARIANTS

SFT_VARIANTS = (*VARIANTS, "teacher")
METHODS = ("lora", "qlora", "full")
LOSSES = ("completion", "full")
DTYPES = ("auto", "bfloat16", "float16", "float32")
LLAMA_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def _field(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with help text (and allowed values) in its metadata, TRL style."""
    metadata = {"help": help, **({"choices": choices} if choices else {})}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class DataArguments:
    """What to train on: the SFT dataset of SPEC 1 built from an adapter and the task rendering."""

    dataset: str = _field("cotemp", "dataset short name (a registered adapter: cotemp, babi, marco, ...)")
    variant: str = _field("correct", "SFT target: answer only, CLS step, correct trace, incorrect trace "
                          "(correct answer), or teacher traces", SFT_VARIANTS)
    data_dir: str | None = _field(None, "local data directory (default: $TRACEKD_DATA_DIR, else the public source)")
    dataset_options: dict = _field({}, "adapter options as a JSON object (the options the adapter declares)")
    limit: int | None = _field(None, "train on the first N training problems only (smoke runs)")
    instruction: bool | None = _field(None, "append the trace-format instruction to the prompt; default: on for "
                                      "trace variants, off for 'answer', as the evaluating task (_trace/_direct) does")
    system_prompt: str | None = _field(None, "system turn of every prompt, e.g. the paper's 'You are Qwen, an AI "
                                       "assistant ...' (evaluate with the same --system_instruction)")
    perturb_steps: list = _field(list(PERTURBABLE_STEPS), "steps an incorrect trace gets wrong", PERTURBABLE_STEPS)
    perturb_probability: float = _field(1.0, "probability that each chosen step of an incorrect trace is wrong")
    data_seed: int | None = _field(None, "seed of the incorrect traces' perturbations (default: --seed)")
    teacher_traces: str | None = _field(None, "teacher variant: JSONL with 'id' and 'trace' per problem, or an "
                                        "lm-eval samples file of a teacher run")
    teacher_allow_missing: bool = _field(False, "teacher variant: drop problems without a teacher trace instead "
                                         "of failing")
    save_dataset: bool = _field(True, "write the built examples to OUTPUT_DIR/sft_train.jsonl")


@dataclass
class ModelArguments:
    """Which model, which parameters train, and how its chat template renders the examples."""

    model: str | None = _field(None, "base model: hub id or local directory (required)")
    method: str = _field("lora", "LoRA adapter, QLoRA (4-bit NF4 base; CUDA and bitsandbytes), or full "
                         "fine-tuning", METHODS)
    lora_r: int = _field(16, "LoRA rank")
    lora_alpha: int = _field(32, "LoRA alpha")
    lora_dropout: float = _field(0.05, "LoRA dropout")
    lora_target_modules: list = _field(list(LLAMA_PROJECTIONS), "modules that get LoRA adapters")
    dtype: str = _field("auto", "weights dtype; auto: bfloat16 for LoRA/QLoRA where the GPU supports it, "
                        "float32 otherwise (full fine-tuning keeps float32 weights with bf16 autocast)", DTYPES)
    attn_implementation: str | None = _field(None, "attention kernel (sdpa, flash_attention_2, eager)")
    chat_template: str | None = _field(None, "replace the tokenizer's chat template: a .jinja file or a "
                                       "tokenizer directory (evaluate with tokenizer=OUTPUT_DIR)")
    chat_template_kwargs: dict = _field({}, "extra chat-template variables as JSON, e.g. '{\"date_string\": "
                                        "\"26 Jul 2024\"}' (Llama 3 templates otherwise print today's date)")
    enable_thinking: bool | None = _field(None, "Qwen3-style templates: render with enable_thinking; unset: the "
                                          "template's default. Evaluation must use the same (see run.json)")
    trust_remote_code: bool = _field(False, "allow models and tokenizers with custom code")


@dataclass
class TrainArguments:
    """How to train: the paper's recipe by default (SPEC 7), completion-only loss."""

    output_dir: str | None = _field(None, "run directory: checkpoints, adapter, tokenizer, run.json (required)")
    loss: str = _field("completion", "completion: loss on the answer turn only; full: on every token (the "
                       "paper's behaviour)", LOSSES)
    learning_rate: float = _field(2e-4, "peak learning rate")
    lr_scheduler_type: str = _field("cosine", "learning-rate schedule (transformers scheduler name)")
    warmup_ratio: float = _field(0.03, "share of the steps spent warming up (the paper: 0.1 for CoTemp traces)")
    per_device_train_batch_size: int = _field(4, "examples per device and step")
    gradient_accumulation_steps: int = _field(4, "steps accumulated per optimizer update")
    num_train_epochs: float = _field(3.0, "epochs")
    max_steps: int = _field(-1, "stop after N optimizer updates (overrides epochs when > 0)")
    max_length: int = _field(1024, "tokens per example; an example longer than this loses the end of its "
                             "completion (its answer), which is refused unless --allow-truncation")
    allow_truncation: bool = _field(False, "train even when examples exceed --max-length (their completions are cut)")
    packing: bool = _field(False, "pack several examples into each max_length sequence")
    packing_strategy: str = _field("bfd", "packing strategy", ("bfd", "bfd_split", "wrapped"))
    optim: str | None = _field(None, "optimizer; default: paged_adamw_8bit for QLoRA (the paper), adamw_torch "
                               "otherwise")
    weight_decay: float = _field(0.0, "weight decay")
    max_grad_norm: float = _field(1.0, "gradient clipping norm")
    bf16: bool | None = _field(None, "bf16 mixed precision; default: on where the GPU supports it")
    gradient_checkpointing: bool = _field(True, "recompute activations to save memory")
    seed: int = _field(42, "training seed (and the data seed unless --data-seed is given)")
    logging_steps: int = _field(10, "log the loss every N updates")
    save_steps: int = _field(200, "save a checkpoint every N updates")
    save_total_limit: int | None = _field(None, "keep at most N checkpoints (default: all)")
    report_to: list = _field(["none"], "where to log besides the console: none, tensorboard, wandb")
    resume: bool = _field(False, "continue from the last checkpoint in OUTPUT_DIR")
    merge: bool = _field(False, "also write the base model with the adapter merged in to OUTPUT_DIR/merged")
    dry_run: bool = _field(False, "build and check the data (chat template, lengths), then stop before training")


@dataclass
class RunConfig:
    data: DataArguments
    model: ModelArguments
    train: TrainArguments

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {"data": asdict(self.data), "model": asdict(self.model), "train": asdict(self.train)}

    @property
    def data_seed(self) -> int:
        return self.train.seed if self.data.data_seed is None else self.data.data_seed


SECTIONS: dict[str, type] = {"data": DataArguments, "model": ModelArguments, "train": TrainArguments}


@functools.cache
def _specs() -> dict[str, tuple[str, type, bool, Any, tuple[str, ...] | None]]:
    """``name -> (section, base type, optional, default, choices)`` for every field of every section."""
    out = {}
    for section, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            hint, optional = hints[f.name], False
            if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
                args = [a for a in typing.get_args(hint) if a is not type(None)]
                hint, optional = args[0], True
            default = f.default_factory() if f.default is MISSING else f.default
            out[f.name] = (section, hint, optional, default, f.metadata.get("choices"))
    return out


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"expected a JSON object ({err.msg})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


def build_parser(prog: str = "tracekd train") -> argparse.ArgumentParser:
    """The command line: one flag per config field, grouped by concern, plus ``--config``."""
    parser = argparse.ArgumentParser(
        prog=prog, argument_default=argparse.SUPPRESS,
        description="Fine-tune a model on trace SFT data (SPEC 1) with TRL: LoRA (default), QLoRA or full "
                    "fine-tuning, with the paper's hyperparameters by default (SPEC 7) but completion-only loss "
                    "(--loss full for the paper's). Needs: pip install \"tracekd[train]\".",
        epilog="Every option is also a YAML key; flags override --config files. Evaluate the result with "
               "tracekd eval --model hf --model_args pretrained=BASE,peft=OUTPUT_DIR ... (run.json holds the "
               "exact command).")
    parser.add_argument("--config", nargs="+", metavar="FILE.yaml", default=[],
                        help="YAML files with option values (later files override earlier ones)")
    specs = _specs()
    groups = {name: parser.add_argument_group(f"{name} options", cls.__doc__) for name, cls in SECTIONS.items()}
    for cls in SECTIONS.values():
        for f in fields(cls):
            section, kind, _, default, choices = specs[f.name]
            flag = "--" + f.name.replace("_", "-")
            text = f.metadata["help"]
            text += "" if "default" in text else f" (default: {default!r})"
            kwargs: dict[str, Any] = {"dest": f.name, "help": text}
            if kind is bool:
                kwargs["action"] = argparse.BooleanOptionalAction
            elif kind is list:
                kwargs.update(nargs="+", choices=choices, metavar="VALUE" if choices is None else None)
            elif kind is dict:
                kwargs.update(type=_json_object, metavar="JSON")
            else:
                kwargs.update(type=kind, choices=choices)
            groups[section].add_argument(flag, **kwargs)
    return parser


def _coerce(name: str, value: Any, path: Path) -> Any:
    """A YAML value checked against the field's type and choices (``2e-4`` written without a dot is a string
    in YAML 1.1: numbers given as strings are accepted)."""
    _, kind, optional, _, choices = _specs()[name]
    if value is None:
        if optional:
            return None
        raise DataError("may not be null", path=path, field=name)
    try:
        if kind is bool:
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise ValueError("expected an integer")
            value = int(value)
        elif kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise ValueError("expected a number")
            value = float(value)
        elif kind is list:
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("expected a list of strings")
        elif kind is dict:
            if not isinstance(value, dict):
                raise ValueError("expected a mapping")
        elif not isinstance(value, str):
            raise ValueError("expected a string")
    except ValueError as err:
        raise DataError(str(err), path=path, field=name) from None
    bad = [v for v in (value if isinstance(value, list) else [value]) if choices and v not in choices]
    if bad:
        raise DataError(f"{bad[0]!r} is not one of {', '.join(choices)}", path=path, field=name)
    return value


def read_yaml_config(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Option values of a YAML file, its ``include:`` files first; unknown keys are errors."""
    import yaml

    path = Path(path).expanduser().resolve()
    if path in _seen:
        raise DataError("includes itself", path=path, field="include")
    if not path.is_file():
        raise DataError("config file not found", path=path)
    try:
        raw = yaml.safe_load(read_text(path)) or {}
    except yaml.YAMLError as err:
        raise DataError(f"malformed YAML ({str(err).splitlines()[0]})", path=path) from None
    if not isinstance(raw, dict):
        raise DataError("expected a mapping of option names to values", path=path)
    includes = raw.pop("include", [])
    values: dict[str, Any] = {}
    for included in [includes] if isinstance(includes, str) else includes:
        values.update(read_yaml_config(path.parent / included, (*_seen, path)))
    specs = _specs()
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name not in specs:
            raise DataError(f"unknown option '{key}' (see tracekd train --help)", path=path, field=str(key))
        values[name] = _coerce(name, value, path)
    return values


def config_from_values(values: dict[str, Any]) -> RunConfig:
    """A RunConfig from option values by field name (missing ones take the defaults)."""
    specs = _specs()
    parts: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    for name, value in values.items():
        parts[specs[name][0]][name] = value
    return RunConfig(**{name: cls(**parts[name]) for name, cls in SECTIONS.items()})


def dashed(argv: list[str]) -> list[str]:
    """``--max_steps`` and ``--max_steps=5`` spelled ``--max-steps`` (values are left alone)."""
    known = {"--" + name.replace("_", "-") for name in _specs()}
    out = []
    for token in argv:
        name, sep, value = token.partition("=")
        if name.startswith("--") and name.replace("_", "-") in known | {f"--no-{k[2:]}" for k in known}:
            token = name.replace("_", "-") + sep + value
        out.append(token)
    return out


def parse_config(argv: list[str], prog: str = "tracekd train") -> RunConfig:
    """YAML files from ``--config``, then the command-line flags, checked (see :func:`validate`)."""
    args = vars(build_parser(prog).parse_args(dashed(argv)))
    values: dict[str, Any] = {}
    for path in args.pop("config", []):
        values.update(read_yaml_config(path))
    values.update(args)
    config = config_from_values(values)
    validate(config)
    return config


def validate(config: RunConfig) -> None:
    """Checks that need no model or data: required options and value ranges."""
    if not config.model.model:
        raise TracekdError("--model is required (a hub id or a local model directory)")
    if not config.train.output_dir and not config.train.dry_run:
        raise TracekdError("--output-dir is required")
    if config.data.variant == "teacher" and not config.data.teacher_traces:
        raise TracekdError("the teacher variant needs --teacher-traces FILE (JSONL with id and trace, or an "
                           "lm-eval samples file)")
    if config.train.merge and config.model.method == "full":
        raise TracekdError("--merge applies to LoRA and QLoRA adapters; full fine-tuning already saves a whole model")
    for section, name, checker in RANGES:
        value = getattr(getattr(config, section), name)
        if value is not None:
            ranges.check(f"--{name.replace('_', '-')}", value, checker)


# The range of every numeric option (``None`` where a field is optional means "not set").
RANGES = (
    ("data", "limit", ranges.positive_int),
    ("data", "perturb_probability", ranges.probability),
    ("data", "data_seed", ranges.nonnegative_int),
    ("model", "lora_r", ranges.positive_int),
    ("model", "lora_alpha", ranges.positive_float),
    ("model", "lora_dropout", ranges.fraction),
    ("train", "learning_rate", ranges.positive_float),
    ("train", "warmup_ratio", ranges.fraction),
    ("train", "per_device_train_batch_size", ranges.positive_int),
    ("train", "gradient_accumulation_steps", ranges.positive_int),
    ("train", "num_train_epochs", ranges.positive_float),
    ("train", "max_steps", ranges.steps_limit),
    ("train", "max_length", ranges.positive_int),
    ("train", "weight_decay", ranges.nonnegative_float),
    ("train", "max_grad_norm", ranges.nonnegative_float),
    ("train", "seed", ranges.nonnegative_int),
    ("train", "logging_steps", ranges.positive_int),
    ("train", "save_steps", ranges.positive_int),
    ("train", "save_total_limit", ranges.positive_int),
)
