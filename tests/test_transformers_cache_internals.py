"""What ``tracekd-hf``'s growing cache (tracekd_ext/generation/kv_cache.py) takes from transformers' cache classes
beyond their documented use, checked one by one so that a transformers release that changes them fails here,
with the name of what changed, rather than as wrong generations:

- ``DynamicCache()`` builds an empty cache whose ``layers`` is a list that may be replaced by other layers;
- ``DynamicCache(config=...)`` gives a plain ``DynamicLayer`` per layer of a plain decoder (Llama);
- ``DynamicLayer()`` takes no arguments and keeps ``keys``, ``values`` and ``is_initialized`` as attributes;
- ``DynamicLayer.update(key_states, value_states, ...)`` returns the layer's keys and values, and the cache's
  ``update(..., layer_idx)`` and ``get_seq_length()`` ask its layers (so ``GrowingLayer``'s own are used).
"""

from __future__ import annotations

import inspect

import torch
import transformers
from transformers import DynamicCache, LlamaConfig
from transformers.cache_utils import DynamicLayer

from tracekd_ext.generation.kv_cache import GrowingLayer, left_padded_cache, supports_growing_cache

RELEASE = f"transformers {transformers.__version__}"


def test_dynamic_cache_layers_is_a_replaceable_list():
    cache = DynamicCache()
    assert isinstance(getattr(cache, "layers", None), list), f"{RELEASE}: DynamicCache().layers is no longer a list"
    cache.layers = [DynamicLayer()]
    assert len(cache.layers) == 1, f"{RELEASE}: DynamicCache.layers can no longer be replaced"


def test_a_plain_decoder_gets_dynamic_layers():
    config = LlamaConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=1, vocab_size=32)
    layers = DynamicCache(config=config).layers
    assert [type(layer) for layer in layers] == [DynamicLayer, DynamicLayer], (
        f"{RELEASE}: DynamicCache(config=Llama) no longer builds plain DynamicLayers: {layers}")
    assert supports_growing_cache(config)


def test_dynamic_layer_attributes_and_update_signature():
    layer = DynamicLayer()
    for name in ("keys", "values", "is_initialized"):
        assert hasattr(layer, name), f"{RELEASE}: DynamicLayer has no attribute {name!r}"
    parameters = list(inspect.signature(DynamicLayer.update).parameters)
    assert parameters[:3] == ["self", "key_states", "value_states"], (
        f"{RELEASE}: DynamicLayer.update's parameters changed: {parameters}")


def test_the_cache_asks_its_layers_for_updates_and_length():
    rows = [[(torch.ones(1, 1, n, 2) * n, torch.ones(1, 1, n, 2) * -n)] for n in (2, 3)]
    cache = left_padded_cache(rows, length=3, capacity=4)
    assert isinstance(cache.layers[0], GrowingLayer) and cache.get_seq_length() == 3, (
        f"{RELEASE}: DynamicCache.get_seq_length no longer asks its layers")
    keys, values = cache.update(torch.full((2, 1, 1, 2), 7.0), torch.full((2, 1, 1, 2), -7.0), 0)
    assert keys.shape == (2, 1, 4, 2) and cache.get_seq_length() == 4, (
        f"{RELEASE}: DynamicCache.update no longer calls the layer's update")
    assert keys[0, 0, 0].tolist() == [0.0, 0.0] and keys[0, 0, 1].tolist() == [2.0, 2.0]  # row 0: left padding
    assert keys[:, 0, 3].tolist() == [[7.0, 7.0], [7.0, 7.0]] and values[1, 0, 0].tolist() == [-3.0, -3.0]
