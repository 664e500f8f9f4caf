"""Cascade attention over a prefix that every row of a decoding batch shares.

The demo's baseline prompts share the system turn and the one-shot example (408 tokens of ~700); the tuned and
intervention prompts share only the system turn (33). In a left-padded batch cache the shared keys and values are
held once per row, and every decoding step reads all of them: in float32, 48 rows of a 408-token prefix are
~0.9 GB per step on SmolLM2-135M. Here the shared prefix's keys and values are held once
(``[kv_heads, prefix, head_dim]`` per layer): all rows' queries attend to it as the queries of one sequence, each
row's own positions (the rest of its prompt and its new tokens, in the batch cache) separately, and the two are
merged by their log-sum-exps. The attention function (``ATTENTION_NAME``) is ``sdpa`` unless the model is called
with ``shared_prefix=``; ``shared_prefix_attention`` switches a model to it for a block of decoding."""

from __future__ import annotations

from contextlib import contextmanager

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

from tracekd_ext.generation.kv_cache import KeyValues

ATTENTION_NAME = "tracekd_shared_prefix"
MIN_SHARED_TOKENS = 128  # a decoding step of 48 rows on SmolLM2-135M, float32, AVX2: 1.14x with the baseline's
# 408 shared tokens, 0.99x with the 33 of the tuned prompts (BENCHMARKS.md, "Issue 20, round 3")


def shared_prefix_length(rows: list[torch.Tensor]) -> int:
    """The number of leading tokens all ``rows`` (1-D) have in common."""
    shortest = min(len(row) for row in rows)
    first = rows[0][:shortest]
    differs = torch.zeros(shortest, dtype=torch.bool)
    for row in rows[1:]:
        differs |= row[:shortest] != first
    positions = differs.nonzero()
    return int(positions[0]) if len(positions) else shortest


def shared_keys_values(prefilled: KeyValues, length: int) -> KeyValues:
    """Per layer, the first ``length`` positions of one row's keys and values (``[1, kv_heads, n, head_dim]``) as
    ``[kv_heads, length, head_dim]``, contiguous."""
    return [(keys[0, :, :length].contiguous(), values[0, :, :length].contiguous()) for keys, values in prefilled]


def cascade_attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling: float | None = None,
                      shared_prefix: KeyValues | None = None, **kwargs):
    """``sdpa``, or, for one query per row with ``shared_prefix`` (per layer ``[kv_heads, P, head_dim]``, before
    the positions of ``key``/``value``), attention over the shared prefix and each row's own keys merged by
    log-sum-exp. Returns ``[batch, 1, heads, head_dim]`` as ``sdpa`` does."""
    if shared_prefix is None or query.shape[2] != 1:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    prefix_keys, prefix_values = shared_prefix[module.layer_idx]
    batch, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    query = query.view(batch, kv_heads, heads // kv_heads, dim)  # query head h reads key/value head h // groups
    if attention_mask is not None and attention_mask.dtype == torch.bool:
        attention_mask = torch.zeros_like(attention_mask, dtype=query.dtype).masked_fill_(~attention_mask, -torch.inf)
    # the shared prefix: all rows' queries of a key/value head as the queries of one sequence
    prefix_out, prefix_lse = _attention_with_lse(query.transpose(0, 1).reshape(1, kv_heads, -1, dim),
                                                 prefix_keys[None], prefix_values[None], None, scaling)
    prefix_out = prefix_out.view(kv_heads, batch, -1, dim).transpose(0, 1)
    prefix_lse = prefix_lse.reshape(kv_heads, batch, -1, 1).transpose(0, 1)
    own_out, own_lse = _attention_with_lse(query, key, value, attention_mask, scaling)  # each row's own positions
    own_lse = own_lse[..., None]
    total = torch.logaddexp(prefix_lse, own_lse)
    output = prefix_out * (prefix_lse - total).exp_() + own_out * (own_lse - total).exp_()
    return output.reshape(batch, 1, heads, dim), None


def _attention_with_lse(query, key, value, mask, scale):
    """Scaled dot-product attention and the log-sum-exp of its scores per query (torch's CPU flash kernel, which
    ``scaled_dot_product_attention`` runs on a CPU)."""
    return torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(query, key, value, attn_mask=mask, scale=scale)


AttentionInterface.register(ATTENTION_NAME, cascade_attention)
AttentionMaskInterface.register(ATTENTION_NAME, sdpa_mask)


@contextmanager
def shared_prefix_attention(model):
    """``model`` runs ``cascade_attention`` inside the block (``sdpa`` before and after)."""
    config = model.config
    before = config._attn_implementation
    if before != "sdpa":
        raise ValueError(f"shared-prefix attention replaces sdpa, not {before}")
    config._attn_implementation = ATTENTION_NAME
    try:
        yield
    finally:
        config._attn_implementation = before
