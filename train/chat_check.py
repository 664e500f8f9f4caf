"""Checks of the chat-template rendering, run before training on every example.

1. The prompt that evaluation renders (``apply_chat_template(prompt, add_generation_prompt=True)``, what
   lm-eval's ``--apply_chat_template`` does) must be a prefix of the training text; otherwise the model
   learns a context it never sees. Qwen3-style templates break this for trace variants when
   ``enable_thinking=false``: the generation prompt then ends in an empty think block.
2. The trace delimiters of the target must survive in the tokenised completion (some templates strip the
   reasoning from assistant turns, e.g. DeepSeek-R1 distills).
3. Token counts: how many examples exceed ``max_length``. TRL truncates them at the end, so each of them loses
   the end of its completion, the answer included; :func:`check_truncation` refuses that unless allowed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from tracekd_ext.errors import TracekdError
from tracekd_ext.files.read import read_text
from tracekd_ext.trace_format import ANSWER_OPEN, THINK_CLOSE, THINK_OPEN
from tracekd_train.config import DataArguments

TRACE_DELIMITERS = (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN)
PINNED_DATE = "26 Jul 2024"  # the Llama 3 templates' own fallback date


@dataclass(frozen=True)
class TokenReport:
    """Token counts of the training texts (prompt and completion, chat template applied)."""

    examples: int
    max_length: int
    over_max_length: int
    max_tokens: int
    mean_tokens: float
    total_tokens: int
    completion_tokens: int
    first_over_ids: tuple[str, ...]
    without_completion: int = 0  # examples whose prompt alone fills max_length: no completion token is left

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        text = (f"{self.examples} examples, {self.mean_tokens:.0f} tokens on average (max {self.max_tokens}); "
                f"{self.over_max_length} exceed max_length {self.max_length}")
        if self.over_max_length:
            text += (f" and lose the end of their completion, answer included, to truncation ({self.without_completion}"
                     f" keep no completion token; first: {', '.join(self.first_over_ids)})")
        return text


def check_truncation(tokens: TokenReport, truncates: bool, allowed: bool) -> None:
    """Refuse training when truncation would cut completions: any example longer than ``max_length`` unless
    ``allowed``, and always when no example keeps a completion token. ``truncates`` is false for packing
    strategies that split long examples instead of cutting them."""
    if not truncates or not tokens.over_max_length:
        return
    if tokens.without_completion == tokens.examples:
        raise TracekdError(f"--max-length {tokens.max_length}: every prompt fills it, so no example keeps any of its "
                           f"completion; raise --max-length (longest example: {tokens.max_tokens} tokens)")
    if not allowed:
        raise TracekdError(
            f"--max-length {tokens.max_length}: {tokens.over_max_length} of {tokens.examples} examples are longer and "
            f"would lose the end of their completion, answer included ({tokens.without_completion} all of it; first: "
            f"{', '.join(tokens.first_over_ids)}); raise --max-length to {tokens.max_tokens}, or pass "
            "--allow-truncation to train on the cut examples")


def load_chat_template(source: str) -> str:
    """A chat template from a ``.jinja`` file or from a tokenizer directory / hub id."""
    path = Path(source).expanduser()
    if path.is_file():
        return read_text(path)
    from transformers import AutoTokenizer

    try:
        template = AutoTokenizer.from_pretrained(source).chat_template
    except (OSError, ValueError) as err:
        raise TracekdError(f"cannot read a chat template from '{source}': {str(err).splitlines()[0]}") from None
    if not template:
        raise TracekdError(f"'{source}' has no chat template")
    return template


def template_kwargs(data_args: DataArguments, template: str) -> tuple[dict[str, Any], list[str]]:
    """The variables the chat template is rendered with (training and evaluation alike) and notes about them.

    ``enable_thinking`` joins them when set; a template that prints today's date (Llama 3) gets
    ``date_string`` pinned so that prompts do not change from day to day.
    """
    kwargs = dict(data_args.chat_template_kwargs)
    notes = []
    if data_args.enable_thinking is not None:
        kwargs["enable_thinking"] = data_args.enable_thinking
        if "enable_thinking" not in template:
            notes.append("the chat template ignores enable_thinking")
    if "strftime_now" in template and "date_string" in template and "date_string" not in kwargs:
        kwargs["date_string"] = PINNED_DATE
        notes.append(f"the chat template prints today's date; pinned date_string={PINNED_DATE!r}")
    return kwargs, notes


def template_sha256(template: str) -> str:
    return hashlib.sha256(template.encode("utf-8")).hexdigest()


def _common_prefix(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Length of the common prefix of two token lists (or strings)."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _prefix_error(example_id: str, prompt: str, full: str, kwargs: dict[str, Any], template: str) -> TracekdError:
    at = _common_prefix(prompt, full)
    hint = ""
    if "enable_thinking" in template:
        hint = (" Qwen3-style templates end the generation prompt in an empty think block when enable_thinking "
                "is false, so a trace target cannot follow it: leave --enable-thinking unset (or true) for trace "
                "variants.")
    return TracekdError(
        f"chat template: the evaluation prompt of '{example_id}' is not a prefix of its training text (with "
        f"{kwargs or 'no template variables'}): the prompt continues {prompt[at:at + 40]!r} where the training "
        f"text has {full[at:at + 40]!r}; the model would learn a context it is never evaluated with.{hint}")


def check_examples(tokenizer: Any, examples: Sequence[dict[str, Any]], max_length: int,
                   kwargs: dict[str, Any]) -> TokenReport:
    """Render and tokenise every example as TRL does; raise on the template problems above, count lengths."""
    template = tokenizer.chat_template or ""
    lengths, completion_tokens, over, without_completion = [], 0, [], 0
    for example in tqdm(examples, desc="checking chat template", unit="ex", leave=False):
        prompt = tokenizer.apply_chat_template(example["prompt"], tokenize=False, add_generation_prompt=True, **kwargs)
        full = tokenizer.apply_chat_template(example["prompt"] + example["completion"], tokenize=False, **kwargs)
        if not full.startswith(prompt):
            raise _prefix_error(example["id"], prompt, full, kwargs, template)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        full_ids = tokenizer(full, add_special_tokens=False)["input_ids"]
        completion_ids = full_ids[_common_prefix(prompt_ids, full_ids):]
        decoded = tokenizer.decode(completion_ids, skip_special_tokens=False)
        target = example["completion"][0]["content"]
        lost = [d for d in TRACE_DELIMITERS if d in target and d not in decoded]
        if lost:
            raise TracekdError(
                f"chat template: the tokenised training text of '{example['id']}' lost {', '.join(lost)} from the "
                "assistant turn (the template or tokenizer drops or mangles the trace); pass --chat_template_path "
                "with a template that keeps the assistant text")
        lengths.append(len(full_ids))
        completion_tokens += len(completion_ids)
        if len(full_ids) > max_length:
            over.append(example["id"])
            without_completion += len(full_ids) - len(completion_ids) >= max_length
    return TokenReport(
        examples=len(lengths), max_length=max_length, over_max_length=len(over), max_tokens=max(lengths, default=0),
        mean_tokens=sum(lengths) / len(lengths) if lengths else 0.0, total_tokens=sum(lengths),
        completion_tokens=completion_tokens, first_over_ids=tuple(over[:3]), without_completion=without_completion)
