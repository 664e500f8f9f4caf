"""The trainer callback that measures a training session: wall time, tokens and steps (for the run card).
Imports transformers, so the trainer imports it only when a run starts."""

from __future__ import annotations

import time

from transformers import TrainerCallback


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
