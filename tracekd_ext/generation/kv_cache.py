"""A batch key/value cache assembled from prompts prefilled one at a time, that grows in place while decoding.

transformers' ``DynamicLayer`` concatenates a new copy of the whole cache at every decoding step; on a CPU with
little memory bandwidth that copy is a large part of a step. ``GrowingLayer`` writes each step into buffers
allocated for the whole generation instead (see BENCHMARKS.md, "Demo")."""

from __future__ import annotations

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

KeyValues = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: keys and values [batch, kv_heads, tokens, head_dim]


class GrowingLayer(DynamicLayer):
    """A ``DynamicLayer`` whose keys and values are views of buffers with room to grow: ``update`` writes the
    new positions in place (the buffers are reallocated, doubled, only when full)."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, length: int):
        super().__init__()
        self.buffers = (keys, values)
        self.device = keys.device
        self.is_initialized = True
        self._set_length(length)

    def _set_length(self, length: int) -> None:
        self.length = length
        self.keys, self.values = (buffer[:, :, :length] for buffer in self.buffers)

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        start, end = self.length, self.length + key_states.shape[-2]
        if end > self.buffers[0].shape[-2]:
            self.buffers = tuple(_grown(buffer, start, 2 * end) for buffer in self.buffers)
        self.buffers[0][:, :, start:end] = key_states
        self.buffers[1][:, :, start:end] = value_states
        self._set_length(end)
        return self.keys, self.values

    def get_seq_length(self) -> int:
        return self.length


def _grown(buffer: torch.Tensor, used: int, capacity: int) -> torch.Tensor:
    grown = buffer.new_zeros(*buffer.shape[:2], capacity, buffer.shape[3])
    grown[:, :, :used] = buffer[:, :, :used]
    return grown


def supports_growing_cache(config) -> bool:
    """Whether every layer of the model's default cache is a plain ``DynamicLayer`` (no sliding windows, no
    linear attention), the only kind ``GrowingLayer`` replaces."""
    return all(type(layer) is DynamicLayer for layer in DynamicCache(config=config).layers)


def left_padded_cache(rows: list[KeyValues], length: int, capacity: int) -> DynamicCache:
    """One cache for a batch: row ``i``'s keys and values (``[1, kv_heads, n_i, head_dim]`` per layer) end at
    position ``length``, after zeros (the left padding, masked out by the attention mask; zeros, not
    uninitialised memory, so that no NaN reaches a masked score). ``capacity``: positions allocated per row."""
    layers = []
    for layer in range(len(rows[0])):
        keys, values = rows[0][layer]
        shape = (len(rows), keys.shape[1], max(capacity, length), keys.shape[3])
        buffers = keys.new_zeros(shape), values.new_zeros(shape)
        for i, row in enumerate(rows):
            for buffer, states in zip(buffers, row[layer], strict=True):
                buffer[i, :, length - states.shape[-2]:length] = states[0]
        layers.append(GrowingLayer(*buffers, length))
    cache = DynamicCache()
    cache.layers = layers
    return cache


def fill_stopped_rows(cache: DynamicCache, live: list[bool]) -> list[int]:
    """Drop the batch rows of a cache of ``GrowingLayer``s that have stopped decoding (``live[i]`` False), in
    place: each stopped row among the first ``sum(live)`` takes the keys and values of a live row beyond them, and
    the batch is cut to ``sum(live)`` rows (a view: nothing is allocated, and only the moved rows' used positions
    are copied, not the whole cache). Returns, per new row, the old row it holds."""
    kept = sum(live)
    holes = [row for row in range(kept) if not live[row]]
    movers = [row for row in range(kept, len(live)) if live[row]]
    order = list(range(kept))
    for hole, mover in zip(holes, movers, strict=True):
        order[hole] = mover
    for layer in cache.layers:
        for buffer in layer.buffers:
            for hole, mover in zip(holes, movers, strict=True):  # one copy per row: an indexed copy per buffer
                # (gather, then scatter) took 2.3-4x as long for 1-12 of 48 rows (BENCHMARKS.md, "round 3")
                buffer[hole, :, :layer.length] = buffer[mover, :, :layer.length]
        layer.buffers = tuple(buffer[:kept] for buffer in layer.buffers)
        layer._set_length(layer.length)
    return order
