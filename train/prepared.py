"""``PreparedRun``: what a training run has decided before the trainer exists (its config, SFT data,
tokenizer, chat-template variables and token counts); the trainer consumes it and the run card reports it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracekd_train.chat_check import TokenReport
from tracekd_train.config import RunConfig
from tracekd_train.sft_data import SFTData


@dataclass
class PreparedRun:
    """Everything decided before the trainer exists: data, tokenizer, template variables, token counts."""

    config: RunConfig
    data: SFTData
    tokenizer: Any
    template_vars: dict[str, Any]
    own_template: bool
    tokens: TokenReport
