"""Greedy decoding of a left-padded batch that drops rows once they have stopped.

``model.generate`` keeps decoding a row that has stopped (writing padding) until every row of its batch has
stopped, so a batch costs as many full-width steps as its longest generation: on the demo only 44% to 64% of
the decoded row-steps were kept. ``greedy_decode`` takes a row out of the batch (and its keys and values out of
the cache) once it stops, with the stop rules of ``generate`` as lm-eval calls it: the end-of-sequence token,
lm-eval's stop sequences (``MultiTokenEOSCriteria``: the stop string in the decoding of the row's last new
tokens) and the token budget. It returns what ``generate`` returns (prompt, new tokens, then padding after a
row's stop), so lm-eval post-processes it unchanged. Settings that change greedy choices (repetition penalty,
forced or suppressed tokens, ...) are ``generate``'s: ``plain_greedy`` says when this loop applies.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from tracekd_ext.generation.kv_cache import KeyValues, fill_stopped_rows
from tracekd_ext.generation.shared_prefix import shared_prefix_attention

# generation settings whose neutral value leaves greedy decoding plain argmax (None: unset)
NEUTRAL_SETTINGS = {"repetition_penalty": 1.0, "encoder_repetition_penalty": 1.0, "no_repeat_ngram_size": 0,
                    "encoder_no_repeat_ngram_size": 0, "min_length": 0, "min_new_tokens": 0, "num_beams": 1,
                    "num_return_sequences": 1, "guidance_scale": 1.0, "bad_words_ids": None,
                    "forced_bos_token_id": None, "forced_eos_token_id": None, "suppress_tokens": None,
                    "begin_suppress_tokens": None, "sequence_bias": None, "exponential_decay_length_penalty": None,
                    "watermarking_config": None, "stop_strings": None, "penalty_alpha": None, "dola_layers": None,
                    "prompt_lookup_num_tokens": None, "max_time": None}
GREEDY_KWARGS = {"do_sample": False, "temperature": 0.0}  # what lm-eval passes for greedy decoding


def plain_greedy(generation_config, generation_kwargs: dict) -> bool:
    """Whether ``generate`` with these settings is plain argmax decoding (nothing but lm-eval's greedy
    arguments, and no logits processor from the model's generation config)."""
    if any(key not in GREEDY_KWARGS or value != GREEDY_KWARGS[key] for key, value in generation_kwargs.items()):
        return False
    return all(getattr(generation_config, name, None) in (None, neutral) for name, neutral in NEUTRAL_SETTINGS.items())


@dataclass
class StopRule:
    """When a row stops, as ``generate`` decides it for lm-eval: an end-of-sequence token of the generation
    config, or a stop string within the decoding of the row's last ``len(encoded stop) + 2`` new tokens
    (lm-eval's ``MultiTokenEOSCriteria``)."""

    tokenizer: object
    stop: list[str]
    eos_token_ids: set[int]
    windows: list[tuple[str, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.windows = [(s, len(self.tokenizer.encode(s, add_special_tokens=False)) + 2) for s in self.stop]

    def stopped(self, new_tokens: list[int]) -> bool:
        if new_tokens[-1] in self.eos_token_ids:
            return True
        return any(s in self.tokenizer.decode(new_tokens[-window:]) for s, window in self.windows)


def eos_token_ids(generation_config) -> set[int]:
    eos = generation_config.eos_token_id
    return set() if eos is None else {eos} if isinstance(eos, int) else set(eos)


@contextmanager
def head_times_hidden(model):
    """Inside the block the model's LM head (a bias-free ``nn.Linear``) computes ``weight @ hidden.T`` instead of
    ``hidden @ weight.T``: the same products, but for the few rows of a decoding step MKL reads the 49,152 x 576
    head of SmolLM2 much faster this way round on an AVX2 CPU (2 rows 24.9 -> 7.4 ms, 48 rows 48.6 -> 32.9 ms;
    BENCHMARKS.md, "Issue 20, round 3"). Only where that was measured: a float32 head on the CPU (bfloat16 and GPU
    matrix products take other kernels)."""
    head = model.get_output_embeddings()
    if (type(head) is not torch.nn.Linear or head.bias is not None or head.weight.device.type != "cpu"
            or head.weight.dtype != torch.float32):
        yield
        return

    def forward(hidden: torch.Tensor) -> torch.Tensor:
        rows = hidden.reshape(-1, hidden.shape[-1])
        return (head.weight @ rows.T).T.reshape(*hidden.shape[:-1], -1)

    head.forward = forward
    try:
        yield
    finally:
        del head.forward


@torch.no_grad()
def greedy_decode(model, cache, context: torch.Tensor, attention_mask: torch.Tensor, max_new_tokens: int,
                  rule: StopRule, pad_token_id: int, cache_kwarg: str = "past_key_values",
                  progress: bool = False, shared_prefix: KeyValues | None = None) -> tuple[torch.Tensor, int]:
    """Decode ``context`` (``[batch, length]``, left-padded; ``cache`` holds the keys and values of all but its
    last column) greedily, ``max_new_tokens`` at most per row; returns ``[batch, length + steps]`` as ``generate``
    does (each row's new tokens, then ``pad_token_id`` after it stopped) and the row-steps decoded (the rows in the
    batch, summed over steps). ``shared_prefix``: the keys and values of the first P prompt tokens, which every
    row shares (per layer ``[kv_heads, P, head_dim]``); then ``cache`` holds each row's positions after them."""
    batch, length = context.shape
    rows = list(range(batch))  # the original row of each batch position still in the cache
    live = [True] * batch  # per batch position: not stopped yet
    new_tokens: list[list[int]] = [[] for _ in range(batch)]
    positions = attention_mask.sum(-1, keepdim=True) - 1
    shared = 0 if shared_prefix is None else shared_prefix[0][0].shape[1]
    mask = attention_mask[:, :length - shared]  # left-padded: row i's last n_i - shared columns
    extra = {} if shared_prefix is None else {"shared_prefix": shared_prefix}
    tokens = context[:, -1:]
    row_steps = 0
    bar = tqdm(total=max_new_tokens, desc=f"decoding {batch} rows", unit="step", disable=not progress, leave=False)
    with nullcontext() if shared_prefix is None else shared_prefix_attention(model), head_times_hidden(model):
        for step in range(max_new_tokens):
            logits = model(input_ids=tokens, attention_mask=mask, position_ids=positions, use_cache=True,
                           logits_to_keep=1, **{cache_kwarg: cache}, **extra).logits[:, -1]
            chosen = logits.float().argmax(-1)
            row_steps += len(rows)
            for position, (row, token) in enumerate(zip(rows, chosen.tolist(), strict=True)):
                if live[position]:
                    new_tokens[row].append(token)
                    live[position] = not rule.stopped(new_tokens[row])
            bar.update(1)
            bar.set_postfix(stopped=f"{batch - sum(live)}/{batch}", refresh=False)
            if not any(live):
                break
            tokens, positions = chosen[:, None], positions + 1
            mask = torch.cat([mask, mask.new_ones(len(rows), 1)], dim=1)
            if not all(live) and step + 1 < max_new_tokens:  # moving a few rows' keys and values costs less than
                # one row's next step
                order = fill_stopped_rows(cache, live)
                tokens, positions, mask = tokens[order], positions[order], mask[order]
                rows = [rows[p] for p in order]
                live = [True] * len(rows)
    bar.close()
    steps = max(len(t) for t in new_tokens)
    output = context.new_full((batch, length + steps), pad_token_id)
    output[:, :length] = context
    for row, generated in enumerate(new_tokens):
        output[row, length:length + len(generated)] = torch.tensor(generated, dtype=context.dtype)
    return output, row_steps
