"""Intervention tasks on a chat-completions API (``--model local-chat-completions`` / ``openai-chat-completions``).

An intervention prompt ends with a forced prefix: the start of the assistant's turn, which the model must
continue. lm-eval sends it to a chat API as a final assistant message, and a chat server then opens a new
assistant turn after it unless the request asks it to continue that message. vLLM's server (and others built on
transformers' chat templates) takes ``continue_final_message=True, add_generation_prompt=False`` in the request,
which lm-eval forwards from ``--gen_kwargs``; without them tracekd refuses the run in one line.
"""

from __future__ import annotations

import argparse
from typing import Any

from tracekd_ext.errors import TracekdError

CHAT_MODELS = ("local-chat-completions", "openai-chat-completions")
CONTINUE = {"continue_final_message": True, "add_generation_prompt": False}


def intervention_tasks(tasks: Any) -> list[str]:
    names = [n for t in ([tasks] if isinstance(tasks, str) else tasks or []) for n in str(t).split(",")]
    return [name for name in names if "_intervene" in name or "interventions" in name]


def check_chat_api_prefix(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Refuse intervention tasks on a chat API unless the request continues the forced assistant message."""
    model = args.model or config.get("model")
    forced = intervention_tasks(args.tasks or config.get("tasks"))
    if model not in CHAT_MODELS or not forced:
        return
    gen_kwargs = args.gen_kwargs or config.get("gen_kwargs") or {}
    if isinstance(gen_kwargs, str):
        from lm_eval.utils import simple_parse_args_string

        gen_kwargs = simple_parse_args_string(gen_kwargs)
    if any(str(gen_kwargs.get(key)).lower() != str(value).lower() for key, value in CONTINUE.items()):
        raise TracekdError(f"--model {model} with {forced[0]}: a chat API opens a new assistant turn after the "
                           "forced prefix; pass --gen_kwargs continue_final_message=True,add_generation_prompt=False "
                           "(vLLM's server continues it) or use --model local-completions")
