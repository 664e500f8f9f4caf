"""``tracekd-hf`` (tracekd_ext.generation): per-prompt prefill with prefix reuse and an in-place cache must
generate what lm-eval's ``hf`` model generates, greedy, on a tiny real model in float32."""

from __future__ import annotations

import pytest
import torch

from tracekd_ext.generation.kv_cache import GrowingLayer, left_padded_cache
from tracekd_ext.generation.prefix_store import Prefilled, PrefixStore, common_prefix_length


def _states(batch: int, length: int, fill: float = 1.0) -> torch.Tensor:
    return torch.full((batch, 2, length, 4), fill)


def test_growing_layer_writes_in_place_and_grows_when_full():
    layer = GrowingLayer(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4), length=1)
    keys, _ = layer.update(_states(1, 2, 5.0), _states(1, 2, 6.0))
    assert keys.shape[-2] == 3 and layer.get_seq_length() == 3
    assert keys.data_ptr() == layer.buffers[0].data_ptr()  # a view, no copy
    keys, values = layer.update(_states(1, 1, 7.0), _states(1, 1, 8.0))  # beyond the 3 allocated positions
    assert keys.shape[-2] == 4 and layer.buffers[0].shape[-2] >= 4
    assert keys[0, 0, :, 0].tolist() == [0.0, 5.0, 5.0, 7.0] and values[0, 0, -1, 0] == 8.0


def test_left_padded_cache_right_aligns_rows_after_zeros():
    rows = [[(_states(1, 2, 1.0), _states(1, 2, 2.0))], [(_states(1, 4, 3.0), _states(1, 4, 4.0))]]
    cache = left_padded_cache(rows, length=4, capacity=10)
    keys = cache.layers[0].keys
    assert cache.get_seq_length() == 4 and cache.layers[0].buffers[0].shape[-2] == 10
    assert keys[0, 0, :, 0].tolist() == [0.0, 0.0, 1.0, 1.0] and keys[1, 0, :, 0].tolist() == [3.0] * 4


def test_prefix_store_finds_the_longest_shared_prefix_and_keeps_to_its_budget():
    def entry(tokens):
        tokens = torch.tensor(tokens)
        return Prefilled(tokens, [(_states(1, len(tokens)), _states(1, len(tokens)))])

    assert common_prefix_length(torch.tensor([1, 2, 3]), torch.tensor([1, 2, 4, 5])) == 2
    assert common_prefix_length(torch.tensor([1, 2]), torch.tensor([1, 2, 4])) == 2
    store = PrefixStore(budget_bytes=entry([0] * 4).nbytes * 2)  # 8 tokens
    store.add(entry([1, 2, 3]))
    store.add(entry([1, 2, 4, 5]))
    found, length = store.longest_prefix(torch.tensor([1, 2, 4, 9]))
    assert length == 3 and found.tokens.tolist() == [1, 2, 4, 5] and store.reused_tokens == 3
    assert store.longest_prefix(torch.tensor([7, 1]))[1] == 0
    store.add(entry([6, 6, 6]))  # over the budget: the least recently used entry ([1, 2, 3]) goes
    assert [e.tokens.tolist() for e in store.entries.values()] == [[1, 2, 4, 5], [6, 6, 6]]
    assert store.nbytes <= store.budget_bytes


@pytest.fixture(scope="module")
def prompts(cotemp_problems, cotemp_spec) -> list[str]:
    """Prompts of different lengths that share prefixes (as the demo's interventions do) and some that do not."""
    from tracekd_ext.trace_format import render_prompt

    bases = [render_prompt(p, cotemp_spec, instruction=True) for p in cotemp_problems[:3]]
    return [bases[0], bases[0] + " <think>", bases[1], bases[0] + " <think>The temporal", bases[2],
            bases[1] + " <answer>"]


def _generate(model_class, tiny_model_dir, prompts, batch_size, **model_args) -> tuple[list[str], object]:
    from lm_eval.api.instance import Instance

    lm = model_class(pretrained=str(tiny_model_dir), dtype="float32", device="cpu", batch_size=batch_size,
                     **model_args)
    kwargs = {"until": ["</answer>"], "max_gen_toks": 12, "do_sample": False}
    requests = [Instance("generate_until", {}, (prompt, kwargs), idx=0) for prompt in prompts]
    return lm.generate_until(requests), lm


@pytest.mark.parametrize(("batch_size", "prefix_cache_mib"), [(4, 1024), (3, 0), (1, 1024)])
def test_tracekd_hf_generates_what_hf_generates(tiny_model_dir, prompts, batch_size, prefix_cache_mib):
    from lm_eval.models.huggingface import HFLM

    from tracekd_ext.generation.backend import PrefixReuseHFLM

    expected, _ = _generate(HFLM, tiny_model_dir, prompts, batch_size)
    generated, lm = _generate(PrefixReuseHFLM, tiny_model_dir, prompts, batch_size,
                              prefix_cache_mib=prefix_cache_mib)
    assert generated == expected
    assert any(expected)  # the tiny model does write something
    assert (lm.prefix_store.reused_tokens > 0) == (prefix_cache_mib > 0)
    info = lm.get_model_info()  # what lm-eval writes into the results' config
    assert info["generation_backend"] == "tracekd-hf"
    assert info["prefix_tokens_reused"] == lm.prefix_store.reused_tokens


def test_tracekd_hf_is_registered_with_lm_eval():
    from lm_eval.api.registry import get_model

    from tracekd_ext.generation import MODEL_NAME
    from tracekd_ext.generation.backend import PrefixReuseHFLM

    assert get_model(MODEL_NAME) is PrefixReuseHFLM


def test_unpadded_rows_strip_left_padding_and_refuse_anything_else():
    from tracekd_ext.generation.backend import unpadded_rows

    context = torch.tensor([[0, 0, 5, 6], [7, 8, 9, 1]])
    rows = unpadded_rows(context, torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]]))
    assert [r.tolist() for r in rows] == [[5, 6], [7, 8, 9, 1]]
    assert unpadded_rows(context, torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])) is None  # right padding: hf's path
    assert unpadded_rows(context, torch.tensor([[0, 1, 0, 1], [1, 1, 1, 1]])) is None
