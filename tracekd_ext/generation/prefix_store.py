"""Keys and values of prompts already prefilled, to start a new prompt from its longest shared token prefix.

The interventions' prompts of one problem differ only in the forced trace after the shared user turn, which is
exactly the tuned model's prompt of that problem; few-shot prompts share at least the system turn. lm-eval
orders requests by length, so prompts sharing a prefix are rarely in the same batch: the store outlives
batches, within a memory budget (least recently used entries go first)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch

from tracekd_ext.generation.kv_cache import KeyValues

DEFAULT_BUDGET_BYTES = 2 << 30  # float32: the demo's tuned and intervention prompts need 3 GiB in all; 2 GiB
# keeps the tuned prompts until the interventions have reused them (BENCHMARKS.md, "Issue 20")


@dataclass(frozen=True)
class Prefilled:
    """A prefilled token sequence (1-D) and its keys and values, ``[1, kv_heads, len(tokens), head_dim]``."""

    tokens: torch.Tensor
    key_values: KeyValues

    @property
    def nbytes(self) -> int:
        return sum(k.nbytes + v.nbytes for k, v in self.key_values)

    def head(self, length: int) -> KeyValues:
        return [(k[:, :, :length], v[:, :, :length]) for k, v in self.key_values]


def common_prefix_length(a: torch.Tensor, b: torch.Tensor) -> int:
    n = min(len(a), len(b))
    differs = (a[:n] != b[:n]).nonzero()
    return int(differs[0]) if len(differs) else n


class PrefixStore:
    """Prefilled sequences within ``budget_bytes`` of keys and values."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES):
        self.budget_bytes = budget_bytes
        self.entries: OrderedDict[int, Prefilled] = OrderedDict()  # by id(entry), least recently used first
        self.nbytes = 0
        self.reused_tokens = 0

    def longest_prefix(self, tokens: torch.Tensor) -> tuple[Prefilled | None, int]:
        """The entry sharing the most leading tokens with ``tokens``, and how many (0: none)."""
        best, best_length = None, 0
        for key, entry in self.entries.items():
            length = common_prefix_length(entry.tokens, tokens)
            if length > best_length:
                best, best_length, best_key = entry, length, key
        if best is not None:
            self.entries.move_to_end(best_key)
            self.reused_tokens += best_length
        return best, best_length

    def add(self, entry: Prefilled) -> None:
        if entry.nbytes > self.budget_bytes:
            return
        self.entries[id(entry)] = entry
        self.nbytes += entry.nbytes
        while self.nbytes > self.budget_bytes:
            _, evicted = self.entries.popitem(last=False)
            self.nbytes -= evicted.nbytes
