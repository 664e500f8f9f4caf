"""Training configuration: TRL's own option classes plus tracekd's data and run options.

``tracekd train`` parses as ``trl sft`` does (``trl/scripts/sft.py``): ``TrlParser((...)).parse_args_and_config()``
over four dataclasses, :class:`DataArguments` (what the examples are), :class:`RunArguments` (resume, merge, dry
run), ``trl.SFTConfig`` (every training option of ``trl sft``) and ``trl.ModelConfig`` (model, LoRA,
quantisation). Every option is a flag in both spellings (``--max_steps``, ``--max-steps``) and a key of the one
``--config`` YAML file. Values come, lowest first, from TRL's defaults, tracekd's recipe defaults
(:data:`RECIPE_DEFAULTS`), the ``--config`` file, then the command line; tracekd's checks (:func:`validate`)
run on the result.

This module imports TRL only when a parser is built, so importing it stays light (no torch).
"""

from __future__ import annotations

import argparse
import json
import re
import warnings
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from tracekd_ext import options as ranges
from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.files.read import read_text
from tracekd_ext.trace_format import PERTURBABLE_STEPS, VARIANTS
from tracekd_train.deps import require

if TYPE_CHECKING:
    from trl import ModelConfig, SFTConfig

    from tracekd_train.parser import TrainParser

SFT_VARIANTS = (*VARIANTS, "teacher")
LLAMA_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def _json_object(name: str, value: Any) -> dict:
    """A dict option: a mapping from YAML, a JSON object from the command line, ``None`` for empty."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise TracekdError(f"--{name}: expected a JSON object ({err.msg}), got {value[:40]!r}") from None
    if not isinstance(value, dict):
        raise TracekdError(f"--{name}: expected a JSON object, got {type(value).__name__}")
    return value


@dataclass
class DataArguments:
    """What to train on: the trace SFT dataset built from a dataset adapter, rendered as the evaluating task
    renders it, and how it is checked under the model's chat template."""

    dataset: str = field(default="cotemp", metadata={
        "help": "dataset short name (a registered adapter: cotemp, babi, marco, ...)"})
    variant: str = field(default="correct", metadata={
        "help": "SFT target: answer only, CLS step, correct trace, incorrect trace (correct answer), or teacher "
                "traces", "choices": list(SFT_VARIANTS)})
    data_dir: str | None = field(default=None, metadata={
        "help": "local data directory (default: $TRACEKD_DATA_DIR, else the public source)"})
    dataset_options: dict | str | None = field(default=None, metadata={
        "help": "adapter options as a JSON object (the options the adapter declares)"})
    limit: int | None = field(default=None, metadata={
        "help": "train on the first N training problems only (smoke runs)"})
    instruction: bool | None = field(default=None, metadata={
        "help": "append the trace-format instruction to the prompt; default: on for trace variants, off for "
                "'answer', as the evaluating task (_trace/_direct) does", "nargs": "?", "const": True})
    system_prompt: str | None = field(default=None, metadata={
        "help": "system turn of every prompt, e.g. the paper's 'You are Qwen, an AI assistant ...' (evaluate with "
                "the same --system_instruction)"})
    perturb_steps: list[str] = field(default_factory=lambda: list(PERTURBABLE_STEPS), metadata={
        "help": "steps an incorrect trace gets wrong", "choices": list(PERTURBABLE_STEPS)})
    perturb_probability: float = field(default=1.0, metadata={
        "help": "probability that each chosen step of an incorrect trace is wrong (the perturbations are seeded "
                "with --data_seed, else --seed)"})
    teacher_traces: str | None = field(default=None, metadata={
        "help": "teacher variant: JSONL with 'id' and 'trace' per problem, or an lm-eval samples file of a "
                "teacher run"})
    teacher_allow_missing: bool = field(default=False, metadata={
        "help": "teacher variant: drop problems without a teacher trace instead of failing"})
    chat_template_kwargs: dict | str | None = field(default=None, metadata={
        "help": "extra chat-template variables as JSON, e.g. '{\"date_string\": \"26 Jul 2024\"}' (Llama 3 "
                "templates otherwise print today's date)"})
    enable_thinking: bool | None = field(default=None, metadata={
        "help": "Qwen3-style templates: render with enable_thinking; unset: the template's default. Evaluation "
                "must use the same (see run.json)", "nargs": "?", "const": True})
    allow_truncation: bool = field(default=False, metadata={
        "help": "train even when examples exceed --max_length (their completions, answers included, are cut)"})

    def __post_init__(self) -> None:
        self.dataset_options = _json_object("dataset_options", self.dataset_options)
        self.chat_template_kwargs = _json_object("chat_template_kwargs", self.chat_template_kwargs)


@dataclass
class RunArguments:
    """What this invocation does besides training: continue, merge, or only check the data."""

    resume: bool = field(default=False, metadata={
        "help": "continue from the last checkpoint in --output_dir (--resume_from_checkpoint PATH: from that one)"})
    merge: bool = field(default=False, metadata={
        "help": "also write the base model with the LoRA adapter merged in to OUTPUT_DIR/merged"})
    dry_run: bool = field(default=False, metadata={
        "help": "build and check the data (leakage, chat template, lengths), then stop before training"})
    save_dataset: bool | None = field(default=None, metadata={
        "help": "write the built examples to OUTPUT_DIR/sft_train.jsonl (default: when --output_dir is given)",
        "nargs": "?", "const": True})


# tracekd's defaults where they differ from TRL's: the paper's recipe (Bhambri et al., arXiv 2505.13792) with a
# LoRA adapter on every projection and completion-only loss. ``output_dir`` "" stands for "not given" (TRL would
# write to trainer_output/); bf16 and pinned memory follow the machine (:func:`machine_defaults`).
RECIPE_DEFAULTS: dict[str, Any] = {
    "use_peft": True,
    "lora_target_modules": list(LLAMA_PROJECTIONS),
    "use_bnb_nested_quant": True,
    "dtype": None,  # the trainer decides: bfloat16 for LoRA where bf16 runs, else float32 (TRL's is float32)
    "learning_rate": 2e-4,
    "lr_scheduler_type": "cosine",
    "warmup_steps": 0.03,
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 4,
    "save_steps": 200,
    "completion_only_loss": True,
    "logging_first_step": True,
    "optim": "adamw_torch",
    "output_dir": "",
}

DEFAULTS_HELP = (
    "tracekd's defaults where they differ from TRL's: --use_peft (LoRA on every projection), "
    "--learning_rate 2e-4, --lr_scheduler_type cosine, --warmup_steps 0.03 (a ratio below 1), "
    "--per_device_train_batch_size 4, --gradient_accumulation_steps 4, --save_steps 200, completion-only loss, "
    "--optim adamw_torch (the paper's recipe file sets paged_adamw_8bit for QLoRA), --bf16 where the GPU "
    "supports it, --dtype bfloat16 for LoRA on such a GPU and float32 otherwise; input tokens are always counted "
    "(non_padding unless 'all') for run.json.")

CONFIG_HELP = ("a YAML file of option values (TRL's --config: any option above as a key, and 'env:' for "
               "environment variables); flags override it")


def machine_defaults() -> dict[str, Any]:
    """The defaults that follow the machine: bf16 and pinned memory where a CUDA GPU has them."""
    import torch

    cuda = torch.cuda.is_available()
    return {"bf16": cuda and torch.cuda.is_bf16_supported(), "dataloader_pin_memory": cuda}


@dataclass
class RunConfig:
    """One training run: tracekd's data and run options, TRL's SFTConfig and ModelConfig."""

    data: DataArguments
    run: RunArguments
    model: ModelConfig
    train: SFTConfig

    @property
    def method(self) -> str:
        """``lora``, ``qlora`` (LoRA on a 4- or 8-bit base) or ``full``."""
        if not self.model.use_peft:
            return "full"
        return "qlora" if self.model.load_in_4bit or self.model.load_in_8bit else "lora"

    @property
    def data_seed(self) -> int:
        """Seed of the incorrect traces' perturbations (TRL's ``data_seed``, else ``seed``)."""
        return self.train.seed if self.train.data_seed is None else self.train.data_seed

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {"data": asdict(self.data), "run": asdict(self.run), "model": asdict(self.model),
                "train": self.train.to_dict()}


def build_parser(prog: str = "tracekd train") -> TrainParser:
    """TRL's parser over tracekd's and TRL's option classes, with tracekd's recipe defaults."""
    require("trl")
    from trl import ModelConfig, SFTConfig

    from tracekd_train.parser import TrainParser

    parser = TrainParser((DataArguments, RunArguments, SFTConfig, ModelConfig), prog=prog, allow_abbrev=False,
                         description="Fine-tune a model on trace SFT data with TRL's SFTTrainer: the options of `trl "
                                     "sft` (SFTConfig, ModelConfig) plus tracekd's data options. " + DEFAULTS_HELP,
                         epilog="Every option is also a key of the --config YAML file; flags override it. Evaluate "
                                "the result with the command run.json holds.")
    parser.add_argument("--config", metavar="FILE.yaml", default=argparse.SUPPRESS, help=CONFIG_HELP)  # TrlParser's
    parser.set_defaults(**RECIPE_DEFAULTS, **machine_defaults())
    return parser


def option_names(parser: TrainParser) -> list[str]:
    """Every option of the parser's dataclasses, by field name."""
    return [f.name for dtype in parser.dataclass_types for f in fields(dtype) if f.init]


# Options of ``trl sft``'s ScriptArguments (hub datasets) and what tracekd takes instead.
TRL_SCRIPT_OPTIONS = {
    "dataset_name": "--dataset (one of {datasets}) with --data_dir",
    "dataset_config": "--dataset_options (a JSON object of the dataset's options)",
    "dataset_train_split": "--limit (tracekd trains on the dataset's train split)",
    "dataset_test_split": "tracekd eval (evaluation runs through lm-eval)",
    "dataset_streaming": "--limit (tracekd builds the examples in memory)",
}


def refuse_unknown(parser: TrainParser, unknown: list[str]) -> None:
    """Command-line words the parser did not take are one line; ``trl sft``'s dataset options point to tracekd's,
    a misspelt option to the nearest one."""
    if not unknown:
        return
    flag = next((token for token in unknown if token.startswith("-")), None)
    if flag is None:
        raise TracekdError(f"unexpected argument {unknown[0]!r} (options take the form --name value; see "
                           "tracekd train --help)")
    name = flag.split("=", 1)[0].lstrip("-").replace("-", "_")
    if name in TRL_SCRIPT_OPTIONS:
        from tracekd_ext.adapters import DATASETS

        instead = TRL_SCRIPT_OPTIONS[name].format(datasets=", ".join(DATASETS))
        raise TracekdError(f"unknown option {flag}: trl sft's hub-dataset option; use {instead}")
    import difflib

    options = option_names(parser)
    family = [o for o in options if o.split("_")[0] == name.split("_")[0]]  # lora_rank: the lora_* options first
    close = (difflib.get_close_matches(name, family, n=1) or difflib.get_close_matches(name, options, n=1))
    raise TracekdError(f"unknown option {flag}" + (f"; did you mean --{close[0]}?" if close else "") +
                       " (see tracekd train --help)")


def _config_path(argv: list[str]) -> str | None:
    """The file after ``--config`` (TrlParser reads the first ``--config FILE``)."""
    if "--config" not in argv:
        return None
    at = argv.index("--config") + 1
    if at == len(argv) or argv[at].startswith("-") or argv.count("--config") > 1:
        raise TracekdError("--config: expected one YAML file (TRL reads one; flags override it)")
    return argv[at]


def parse_config(argv: list[str], prog: str = "tracekd train", values: dict[str, Any] | None = None) -> RunConfig:
    """The checked RunConfig of a command line: ``values`` by option name (checked as a ``--config`` file's keys),
    then the ``--config`` YAML file, then the flags of ``argv``."""
    import yaml

    parser = build_parser(prog)
    if values:
        parser.set_defaults_with_config(**values)
    argv = [word for token in argv for word in (token.split("=", 1) if token.startswith("--config=") else [token])]
    parser.config_path = path = _config_path(argv)
    try:
        with warnings.catch_warnings():  # TRL's spelling is gradient_checkpointing; transformers 5 renamed it
            warnings.filterwarnings("ignore", message="`gradient_checkpointing", category=FutureWarning)
            parsed = parser.parse_args_and_config(argv, return_remaining_strings=True)
    except FileNotFoundError:
        raise DataError("config file not found", path=path) from None
    except OSError as err:
        raise DataError(err.strerror or str(err), path=path) from None
    except UnicodeDecodeError:
        read_text(path)  # names the line and byte (only a failed read is read again)
        raise DataError("not UTF-8 text", path=path) from None
    except yaml.YAMLError as err:
        raise DataError(f"malformed YAML ({str(err).splitlines()[0]})", path=path) from None
    except ValueError as err:  # TRL's and transformers' own checks of the option values
        raise TracekdError(f"invalid training options: {str(err).splitlines()[0]}") from None
    data, run, train, model, unknown = parsed
    refuse_unknown(parser, unknown)
    config = RunConfig(data=data, run=run, model=model, train=train)
    _fill_derived(config)
    validate(config)
    return config


def config_from_values(values: dict[str, Any]) -> RunConfig:
    """The checked RunConfig of option values by name, for a run started from code rather than a command line."""
    return parse_config([], values=values)


def _fill_derived(config: RunConfig) -> None:
    """The values that follow from other options, and the required ones."""
    if not config.model.model_name_or_path:
        raise TracekdError("--model_name_or_path is required (a hub id or a local model directory)")
    if not config.train.output_dir and not config.run.dry_run:
        raise TracekdError("--output-dir is required")
    if config.run.save_dataset is None:
        config.run.save_dataset = bool(config.train.output_dir)
    if config.train.include_num_input_tokens_seen == "no":  # run.json's throughput counts the input tokens
        config.train.include_num_input_tokens_seen = "non_padding"
    target = config.model.lora_target_modules  # TRL passes a single name on as a regular expression
    if isinstance(target, str) and target != "all-linear" and re.fullmatch(r"\w+", target):
        config.model.lora_target_modules = [target]


def validate(config: RunConfig) -> None:
    """Checks across options and value ranges (TRL and transformers check the rest)."""
    if config.data.variant == "teacher" and not config.data.teacher_traces:
        raise TracekdError("the teacher variant needs --teacher-traces FILE (JSONL with id and trace, or an "
                           "lm-eval samples file)")
    if config.run.merge and not config.model.use_peft:
        raise TracekdError("--merge applies to LoRA and QLoRA adapters; full fine-tuning already saves a whole model")
    if (config.model.load_in_4bit or config.model.load_in_8bit) and not config.model.use_peft:
        raise TracekdError("--load_in_4bit / --load_in_8bit train a LoRA adapter on the quantised model: add "
                           "--use_peft")
    for name in KWARGS_OPTIONS:  # transformers parses only strings that start with '{' (others are paths)
        value = getattr(config.train, name, None)
        if value is not None:
            setattr(config.train, name, _json_object(name, value))
    for section, name, checker in RANGES:
        value = getattr(getattr(config, section), name)
        if value is not None:
            ranges.check(f"--{name.replace('_', '-')}", value, checker)


# Keyword-argument options of SFTConfig that must be JSON objects (transformers would keep any other string).
KWARGS_OPTIONS = ("model_init_kwargs", "dataset_kwargs", "lr_scheduler_kwargs", "gradient_checkpointing_kwargs",
                  "activation_checkpointing_kwargs")

# The range of every numeric option tracekd's recipes set (``None`` where a field is optional means "not set").
RANGES = (
    ("data", "limit", ranges.positive_int),
    ("data", "perturb_probability", ranges.probability),
    ("model", "lora_r", ranges.positive_int),
    ("model", "lora_alpha", ranges.positive_float),
    ("model", "lora_dropout", ranges.fraction),
    ("train", "learning_rate", ranges.positive_float),
    ("train", "warmup_steps", ranges.nonnegative_float),
    ("train", "per_device_train_batch_size", ranges.positive_int),
    ("train", "gradient_accumulation_steps", ranges.positive_int),
    ("train", "num_train_epochs", ranges.positive_float),
    ("train", "max_steps", ranges.steps_limit),
    ("train", "max_length", ranges.positive_int),
    ("train", "weight_decay", ranges.nonnegative_float),
    ("train", "max_grad_norm", ranges.nonnegative_float),
    ("train", "seed", ranges.nonnegative_int),
    ("train", "data_seed", ranges.nonnegative_int),
    ("train", "logging_steps", ranges.positive_float),
    ("train", "save_steps", ranges.positive_float),
    ("train", "save_total_limit", ranges.positive_int),
    ("train", "adam_beta1", ranges.fraction),
    ("train", "adam_beta2", ranges.fraction),
    ("train", "adam_epsilon", ranges.nonnegative_float),
    ("train", "dataloader_num_workers", ranges.nonnegative_int),
    ("train", "dataloader_prefetch_factor", ranges.positive_int),
)
