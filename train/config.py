"""Training configuration: TRL's own option classes plus tracekd's data and run options.

``tracekd train`` parses with ``trl.TrlParser`` over four dataclasses, the shape of ``trl sft``
(``trl/scripts/sft.py``): :class:`DataArguments` (what the examples are), :class:`RunArguments` (resume,
merge, dry run), ``trl.SFTConfig`` (every training option of ``trl sft``) and ``trl.ModelConfig`` (model,
LoRA, quantisation). Every option is a flag in both spellings (``--max_steps``, ``--max-steps``) and a YAML
key. Values come, lowest first, from TRL's defaults, tracekd's recipe defaults (:data:`RECIPE_DEFAULTS`),
the ``--config`` YAML files (later files win; ``include:`` pulls in files relative to the including one),
the deprecated spellings of tracekd 0.1 (:data:`DEPRECATED`), then the TRL flags on the command line.

This module imports TRL only when a parser is built, so importing it stays light (no torch).
"""

from __future__ import annotations

import argparse
import json
import typing
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracekd_ext import options as ranges
from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.files.read import read_text
from tracekd_ext.trace_format import PERTURBABLE_STEPS, VARIANTS
from tracekd_train.deps import require

if TYPE_CHECKING:
    from trl import ModelConfig, SFTConfig, TrlParser

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
# LoRA adapter on every projection, completion-only loss, and ``None`` for the values decided by
# :func:`_resolve_auto` (bf16, optimizer, pinned memory, dtype, dataset saving).
RECIPE_DEFAULTS: dict[str, Any] = {
    "use_peft": True,
    "lora_target_modules": list(LLAMA_PROJECTIONS),
    "use_bnb_nested_quant": True,
    "dtype": None,
    "learning_rate": 2e-4,
    "lr_scheduler_type": "cosine",
    "warmup_steps": 0.03,
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 4,
    "save_steps": 200,
    "completion_only_loss": True,
    "logging_first_step": True,
    "include_num_input_tokens_seen": None,
    "optim": None,
    "bf16": None,
    "dataloader_pin_memory": None,
}

DEFAULTS_HELP = (
    "tracekd's defaults where they differ from TRL's: --use_peft (LoRA on every projection), "
    "--learning_rate 2e-4, --lr_scheduler_type cosine, --warmup_steps 0.03 (a ratio below 1), "
    "--per_device_train_batch_size 4, --gradient_accumulation_steps 4, --save_steps 200, completion-only loss, "
    "--optim adamw_torch (paged_adamw_8bit with --load_in_4bit), --bf16 where the GPU supports it, --dtype "
    "bfloat16 for LoRA on such a GPU and float32 otherwise.")


@dataclass(frozen=True)
class Deprecated:
    """A tracekd 0.1 option accepted for one more release: its values become TRL options."""

    name: str
    to_trl: Callable[[Any], dict[str, Any]]
    choices: tuple[str, ...] | None = None
    type: Callable[[str], Any] = str
    check: Callable[[Any], Any] | None = None  # a range check (tracekd_ext.options) of the old value

    def translate(self, value: Any, where: str = "") -> dict[str, Any]:
        """The TRL option values for ``value``, after a note naming them (``where``: the YAML file)."""
        if self.check is not None:
            ranges.check(f"--{self.name.replace('_', '-')}", value, self.check)
        new = self.to_trl(value)
        deprecation_note(f"{self.name}: {value}" if where else f"--{_dashed(self.name)} {value}", new, where)
        return new


METHODS = {"lora": {"use_peft": True, "load_in_4bit": False},
           "qlora": {"use_peft": True, "load_in_4bit": True},
           "full": {"use_peft": False, "load_in_4bit": False}}

DEPRECATED = (
    Deprecated("model", lambda v: {"model_name_or_path": v}),
    Deprecated("method", lambda v: dict(METHODS[v]), tuple(METHODS)),
    Deprecated("loss", lambda v: {"completion_only_loss": v == "completion"}, ("completion", "full")),
    Deprecated("warmup_ratio", lambda v: {"warmup_steps": v}, type=float, check=ranges.fraction),
    Deprecated("chat_template", lambda v: {"chat_template_path": v}),
)
DEPRECATED_BY_NAME = {alias.name: alias for alias in DEPRECATED}
SUNSET = "tracekd 0.2"


def _flag_text(values: dict[str, Any]) -> str:
    return " ".join(f"--{k} {str(v).lower() if isinstance(v, bool) else v}" for k, v in values.items())


def deprecation_note(old: str, values: dict[str, Any], where: str = "") -> None:
    """Say which TRL spelling replaces a deprecated one (on stdout, with the run's other notes)."""
    print(f"tracekd train: note: {where}'{old}' is deprecated and accepted until {SUNSET}; the TRL spelling is "
          f"{_flag_text(values)}")


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


def build_parser(prog: str = "tracekd train") -> TrlParser:
    """TRL's parser over tracekd's and TRL's option classes, with tracekd's recipe defaults."""
    require("trl")
    from trl import ModelConfig, SFTConfig, TrlParser

    parser = TrlParser((DataArguments, RunArguments, SFTConfig, ModelConfig), prog=prog, allow_abbrev=False,
                       description="Fine-tune a model on trace SFT data with TRL's SFTTrainer: the options of `trl "
                                   "sft` (SFTConfig, ModelConfig) plus tracekd's data options. " + DEFAULTS_HELP,
                       epilog="Every option is also a YAML key (--config); flags override the files. Deprecated "
                              f"tracekd 0.1 spellings, accepted until {SUNSET}: --model (--model_name_or_path), "
                              "--method lora|qlora|full (--use_peft, --load_in_4bit), --loss completion|full "
                              "(--completion_only_loss), --warmup-ratio (--warmup_steps), --chat-template "
                              "(--chat_template_path), --no-X for a boolean (--X false). Evaluate the result with "
                              "the command run.json holds.")
    parser.add_argument("--config", nargs="+", metavar="FILE.yaml", default=[],
                        help="YAML files of option values (later files override earlier ones; a file may "
                             "'include:' others)")
    parser.set_defaults(**RECIPE_DEFAULTS)
    return parser


def _fields_of_type(parser: TrlParser, wanted: Callable[[Any], bool]) -> list[str]:
    """Names of the options whose declared type satisfies ``wanted``."""
    names = []
    for dtype in parser.dataclass_types:
        hints = typing.get_type_hints(dtype)
        names += [name for name in dtype.__dataclass_fields__ if wanted(hints[name])]
    return names


def _takes_none(hint: Any) -> bool:
    return hint is None or type(None) in typing.get_args(hint)


def _is_bool(hint: Any) -> bool:
    return hint in (bool, bool | None)


def _takes_mapping(hint: Any) -> bool:
    return any(arg is dict or typing.get_origin(arg) is dict for arg in (hint, *typing.get_args(hint)))


_BARE = object()


def legacy_parser(parser: TrlParser) -> argparse.ArgumentParser:
    """The options read before TRL's parser: ``--config`` and the deprecated spellings of tracekd 0.1."""
    legacy = argparse.ArgumentParser(prog=parser.prog, add_help=False, allow_abbrev=False)
    legacy.add_argument("--config", nargs="+", default=[])
    for alias in DEPRECATED:
        legacy.add_argument(*_spellings(alias.name), dest=f"deprecated.{alias.name}", choices=alias.choices,
                            type=alias.type, default=argparse.SUPPRESS)
    known = set(parser._option_string_actions)
    for name in _fields_of_type(parser, _is_bool):
        if f"--no_{name}" not in known:  # TRL has --no_X only where X defaults to true
            legacy.add_argument(*_spellings(f"no_{name}"), dest=f"no.{name}", action="store_const", const=False,
                                default=argparse.SUPPRESS)
        trl_action = parser._option_string_actions[f"--{name}"]
        if trl_action.nargs is None:  # TRL wants --X true; tracekd 0.1 took a bare --X
            legacy.add_argument(*_spellings(name), dest=f"bare.{name}", nargs="?", const=_BARE, type=trl_action.type,
                                default=argparse.SUPPRESS)
    return legacy


def _dashed(name: str) -> str:
    return name.replace("_", "-")


def _spellings(name: str) -> list[str]:
    return list(dict.fromkeys([f"--{name}", f"--{_dashed(name)}"]))


def normalise_spelling(argv: list[str], *parsers: argparse.ArgumentParser) -> list[str]:
    """Mixed spellings such as ``--no-gradient_checkpointing`` as a declared one (values are left alone)."""
    declared = {opt.replace("_", "-"): opt for p in parsers for opt in p._option_string_actions}
    out = []
    for token in argv:
        name, sep, value = token.partition("=")
        if name.startswith("--") and name.replace("_", "-") in declared:
            token = declared[name.replace("_", "-")] + sep + value
        out.append(token)
    return out


def deprecated_values(namespace: argparse.Namespace) -> dict[str, Any]:
    """The TRL option values that the deprecated flags in ``namespace`` stand for (with a note for each)."""
    values: dict[str, Any] = {}
    for dest, value in vars(namespace).items():
        kind, _, name = dest.partition(".")
        if kind == "deprecated":
            new = DEPRECATED_BY_NAME[name].translate(value)
        elif kind == "no":
            new = {name: False}
            deprecation_note(f"--no-{_dashed(name)}", new)
        elif kind == "bare":
            new = {name: True if value is _BARE else value}
            if value is _BARE:
                deprecation_note(f"--{_dashed(name)}", new)
        else:
            continue
        values.update(new)
    return values


def _check_yaml_value(action: argparse.Action, value: Any, path: Path, key: str, mappings: set[str]) -> Any:
    """A YAML value checked against its option: booleans must be booleans, mappings go to the options that take
    them (``mappings``), choices are enforced, and numbers given as strings (``2e-4`` without a dot is a string in
    YAML 1.1) are converted by the option's type."""
    if value is None or (isinstance(value, dict) and action.dest in mappings):
        return value
    if getattr(action.type, "__name__", "") == "string_to_bool":
        if not isinstance(value, bool):
            raise DataError("expected true or false", path=path, field=key)
        return value
    listed = action.nargs == "+"
    items = value if listed and isinstance(value, list) else [value]
    if not listed and isinstance(value, (list, dict)) and action.type in (int, float, str):
        raise DataError(f"expected a single value, got {type(value).__name__}", path=path, field=key)
    checked = []
    for item in items:
        if isinstance(item, str) and action.type in (int, float):
            try:
                item = action.type(item)
            except ValueError:
                raise DataError(f"expected a number, got {item!r}", path=path, field=key) from None
        if action.type is str and not isinstance(item, str):
            raise DataError(f"expected a string, got {type(item).__name__} {item!r} (quote it in YAML if it is meant "
                            "as text)", path=path, field=key)
        if action.choices is not None and item not in action.choices and str(item) not in map(str, action.choices):
            choices = ", ".join(str(c) for c in action.choices)
            raise DataError(f"{item!r} is not one of {choices}", path=path, field=key)
        checked.append(item)
    return checked if listed and isinstance(value, list) else checked[0]


def read_yaml_config(path: str | Path, parser: TrlParser | None = None,
                     _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Option values of a YAML file by TRL option name, its ``include:`` files first; unknown keys are errors,
    deprecated keys are translated (with a note)."""
    import yaml

    parser = parser or build_parser()
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
    includes = [includes] if isinstance(includes, str) else includes
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise DataError("expected a file name or a list of file names", path=path, field="include")
    values: dict[str, Any] = {}
    for included in includes:
        values.update(read_yaml_config(path.parent / included, parser, (*_seen, path)))
    mappings = set(_fields_of_type(parser, _takes_mapping))
    optional = set(_fields_of_type(parser, _takes_none))
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name in DEPRECATED_BY_NAME:
            alias = DEPRECATED_BY_NAME[name]
            if alias.choices and value not in alias.choices:
                raise DataError(f"{value!r} is not one of {', '.join(alias.choices)}", path=path, field=str(key))
            values.update(alias.translate(value, where=f"{path}: "))
            continue
        action = parser._option_string_actions.get(f"--{name}")
        if action is None or name == "config":
            raise DataError(f"unknown option '{key}' (see tracekd train --help)", path=path, field=str(key))
        if value is None and action.dest not in optional:
            raise DataError("expected a value, got null (leave the key out for the default)", path=path, field=str(key))
        values[action.dest] = _check_yaml_value(action, value, path, str(key), mappings)
    return values


def _resolve_auto(values: dict[str, Any]) -> None:
    """Fill the options whose tracekd default depends on the machine or on other options."""
    import torch

    if values["bf16"] is None:
        values["bf16"] = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if values["dataloader_pin_memory"] is None:
        values["dataloader_pin_memory"] = torch.cuda.is_available()
    if values["optim"] is None:
        values["optim"] = "paged_adamw_8bit" if values["load_in_4bit"] else "adamw_torch"
    if values["include_num_input_tokens_seen"] is None:  # a str-or-bool option: a string default would be parsed
        values["include_num_input_tokens_seen"] = "non_padding"
    if values["save_dataset"] is None:
        values["save_dataset"] = values["output_dir"] is not None
    # transformers 5 renamed gradient_checkpointing to activation_checkpointing; TRL still defaults the old name
    if values.get("activation_checkpointing") is None and values.get("gradient_checkpointing") is not None:
        values["activation_checkpointing"], values["gradient_checkpointing"] = values["gradient_checkpointing"], None


def _required(values: dict[str, Any]) -> None:
    if not values["model_name_or_path"]:
        raise TracekdError("--model_name_or_path is required (a hub id or a local model directory)")
    if not values["output_dir"] and not values["dry_run"]:
        raise TracekdError("--output-dir is required")


# Options of ``trl sft``'s ScriptArguments (hub datasets) and what tracekd takes instead.
TRL_SCRIPT_OPTIONS = {
    "dataset_name": "--dataset (one of {datasets}) with --data_dir",
    "dataset_config": "--dataset_options (a JSON object of the dataset's options)",
    "dataset_train_split": "--limit (tracekd trains on the dataset's train split)",
    "dataset_test_split": "tracekd eval (evaluation runs through lm-eval)",
    "dataset_streaming": "--limit (tracekd builds the examples in memory)",
}


def refuse_unknown_flags(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """An option the parser does not know is one line; ``trl sft``'s dataset options point to tracekd's."""
    _, unknown = parser.parse_known_args(argv)
    flag = next((token for token in unknown if token.startswith("-")), None)
    if flag is None:
        return
    name = flag.split("=", 1)[0].lstrip("-").replace("-", "_")
    if name in TRL_SCRIPT_OPTIONS:
        from tracekd_ext.adapters import DATASETS

        instead = TRL_SCRIPT_OPTIONS[name].format(datasets=", ".join(DATASETS))
        raise TracekdError(f"unknown option {flag}: trl sft's hub-dataset option; use {instead}")
    import difflib

    options = [o[2:] for o in parser._option_string_actions if o.startswith("--") and "-" not in o[2:]]
    family = [o for o in options if o.split("_")[0] == name.split("_")[0]]  # lora_rank: the lora_* options first
    close = (difflib.get_close_matches(name, family, n=1) or difflib.get_close_matches(name, options, n=1))
    close = [f"--{c}" for c in close]
    raise TracekdError(f"unknown option {flag}" + (f"; did you mean {close[0]}?" if close else "") +
                       " (see tracekd train --help)")


def config_from_values(values: dict[str, Any], argv: list[str] | None = None, parser: TrlParser | None = None,
                       ) -> RunConfig:
    """A checked RunConfig from option values by name (YAML keys, deprecated names included) and TRL flags
    ``argv`` that override them."""
    parser = parser or build_parser()
    values = dict(values)
    for name in [n for n in values if n in DEPRECATED_BY_NAME]:
        values.update(DEPRECATED_BY_NAME[name].translate(values.pop(name)))
    unknown = parser.set_defaults_with_config(**values)
    if unknown:
        raise TracekdError(f"unknown option '{unknown[0][2:]}' (see tracekd train --help)")
    refuse_unknown_flags(parser, argv or [])
    parsed = vars(parser.parse_args(argv or []))
    parsed.pop("config")
    _required(parsed)
    _resolve_auto(parsed)
    try:
        data, run, train, model = parser.parse_dict(parsed)
    except ValueError as err:  # TRL's and transformers' own checks of the option values
        raise TracekdError(f"invalid training options: {str(err).splitlines()[0]}") from None
    config = RunConfig(data=data, run=run, model=model, train=train)
    validate(config)
    return config


def parse_config(argv: list[str], prog: str = "tracekd train") -> RunConfig:
    """``--config`` YAML files, then the deprecated flags, then the TRL flags of ``argv``, checked."""
    parser = build_parser(prog)
    legacy = legacy_parser(parser)
    old, rest = legacy.parse_known_args(normalise_spelling(argv, parser, legacy))
    values: dict[str, Any] = {}
    for path in old.config:
        values.update(read_yaml_config(path, parser))
    values.update(deprecated_values(old))
    return config_from_values(values, rest, parser)


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
