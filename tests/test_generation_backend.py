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


def test_fill_stopped_rows_moves_only_live_rows_from_the_tail_and_allocates_nothing():
    from tracekd_ext.generation.kv_cache import fill_stopped_rows

    rows = [[(_states(1, 2, float(i)), _states(1, 2, 10.0 + i))] for i in range(5)]
    cache = left_padded_cache(rows, length=2, capacity=6)
    buffer = cache.layers[0].buffers[0].data_ptr()
    order = fill_stopped_rows(cache, [True, False, True, False, True])
    assert order == [0, 4, 2]  # the stopped row 1 takes live row 4; row 3, stopped, is cut off
    layer = cache.layers[0]
    assert layer.keys.shape[0] == 3 and layer.buffers[0].data_ptr() == buffer  # a view of the same memory
    assert [layer.keys[i, 0, -1, 0].item() for i in range(3)] == [0.0, 4.0, 2.0]
    assert [layer.values[i, 0, -1, 0].item() for i in range(3)] == [10.0, 14.0, 12.0]
    assert fill_stopped_rows(cache, [True, True, True]) == [0, 1, 2]


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


def _generate(model_class, tiny_model_dir, prompts, batch_size, until=("</answer>",), max_gen_toks=12,
              **model_args) -> tuple[list[str], object]:
    from lm_eval.api.instance import Instance

    lm = model_class(pretrained=str(tiny_model_dir), dtype="float32", device="cpu", batch_size=batch_size,
                     **model_args)
    kwargs = {"until": list(until), "max_gen_toks": max_gen_toks, "do_sample": False}
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
    assert info["prefilled_tokens"] + lm.prefix_store.reused_tokens == sum(
        len(lm.tok_encode(p)) - 1 for p in prompts)  # every prompt but its last token (generation's first input)


def test_tracekd_hf_is_registered_with_lm_eval():
    from lm_eval.api.registry import get_model

    from tracekd_ext.generation import MODEL_NAME
    from tracekd_ext.generation.backend import PrefixReuseHFLM
    from tracekd_ext.harness.model import register_tracekd_hf

    assert register_tracekd_hf() is PrefixReuseHFLM and register_tracekd_hf() is PrefixReuseHFLM  # once
    assert get_model(MODEL_NAME) is PrefixReuseHFLM


def test_unpadded_rows_strip_left_padding_and_refuse_anything_else():
    from tracekd_ext.generation.backend import unpadded_rows

    context = torch.tensor([[0, 0, 5, 6], [7, 8, 9, 1]])
    rows = unpadded_rows(context, torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]]))
    assert [r.tolist() for r in rows] == [[5, 6], [7, 8, 9, 1]]
    assert unpadded_rows(context, torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])) is None  # right padding: hf's path
    assert unpadded_rows(context, torch.tensor([[0, 1, 0, 1], [1, 1, 1, 1]])) is None


def test_tracekd_hf_drops_stopped_rows_and_still_generates_what_hf_generates(tiny_model_dir, prompts, monkeypatch):
    """Stop strings the tiny model writes early make rows stop at different steps: the rows that stopped leave the
    batch (and its cache) and the others go on, and every text is ``hf``'s."""
    from lm_eval.models.huggingface import HFLM

    from tracekd_ext.generation import greedy
    from tracekd_ext.generation.backend import PrefixReuseHFLM

    compactions = []
    fill_stopped_rows = greedy.fill_stopped_rows
    monkeypatch.setattr(greedy, "fill_stopped_rows", lambda cache, live: (compactions.append(sum(live)),
                                                                          fill_stopped_rows(cache, live))[1])
    until = ["</answer>", "e", "t"]
    expected, _ = _generate(HFLM, tiny_model_dir, prompts, 6, until=until, max_gen_toks=24)
    generated, lm = _generate(PrefixReuseHFLM, tiny_model_dir, prompts, 6, until=until, max_gen_toks=24)
    assert generated == expected
    assert compactions and min(compactions) < len(prompts)  # rows did leave the batch before it ended
    monkeypatch.setattr("tracekd_ext.generation.backend.plain_greedy", lambda *args: False)  # generate's loop
    whole_batch, lm_generate = _generate(PrefixReuseHFLM, tiny_model_dir, prompts, 6, until=until, max_gen_toks=24)
    assert whole_batch == expected
    assert 0 < lm.work["decoded_row_steps"] < lm_generate.work["decoded_row_steps"]
    assert lm.work["prefilled_tokens"] == lm_generate.work["prefilled_tokens"] > 0


def test_stop_rule_is_lm_evals_window_and_the_end_of_sequence_token(tiny_model_dir):
    from transformers import AutoTokenizer

    from tracekd_ext.generation.greedy import StopRule

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    rule = StopRule(tokenizer, ["</answer>"], {tokenizer.eos_token_id})
    words = tokenizer.encode("The answer is", add_special_tokens=False)
    stop = tokenizer.encode("</answer>", add_special_tokens=False)
    assert not rule.stopped(words)
    assert rule.stopped(words + stop) and rule.stopped(words + [tokenizer.eos_token_id])
    assert not rule.stopped(stop + words * 3)  # earlier than lm-eval's lookback window: generate saw it then


def test_plain_greedy_only_without_settings_that_change_the_argmax():
    from transformers import GenerationConfig

    from tracekd_ext.generation.greedy import plain_greedy

    greedy = {"do_sample": False, "temperature": 0.0}
    assert plain_greedy(GenerationConfig(eos_token_id=2, pad_token_id=2), greedy)
    assert plain_greedy(GenerationConfig(repetition_penalty=1.0, num_beams=1), {"do_sample": False})
    assert not plain_greedy(GenerationConfig(repetition_penalty=1.05), greedy)
    assert not plain_greedy(GenerationConfig(), {"do_sample": True, "temperature": 0.7})
    assert not plain_greedy(GenerationConfig(), {"do_sample": False, "top_k": 5})


def test_tracekd_hf_shows_progress_within_a_batch_on_standard_error(tiny_model_dir, prompts, capsys):
    from lm_eval.api.instance import Instance

    from tracekd_ext.generation.backend import PrefixReuseHFLM

    lm = PrefixReuseHFLM(pretrained=str(tiny_model_dir), dtype="float32", device="cpu", batch_size=len(prompts))
    kwargs = {"until": ["</answer>"], "max_gen_toks": 6, "do_sample": False}
    lm.generate_until([Instance("generate_until", {}, (p, kwargs), idx=0) for p in prompts])
    captured = capsys.readouterr()
    assert f"prefilling {len(prompts)} prompts" in captured.err and f"decoding {len(prompts)} rows" in captured.err
    assert "decoding" not in captured.out
    lm.generate_until([Instance("generate_until", {}, (p, kwargs), idx=0) for p in prompts], disable_tqdm=True)
    assert "decoding" not in capsys.readouterr().err


def test_a_lora_adapter_is_merged_into_the_weights_and_generates_what_hf_generates(tiny_model_dir, prompts, tmp_path):
    """lm-eval's ``peft=`` keeps a PeftModel (the adapter's extra products at every layer and step); tracekd-hf
    folds the adapter into the weights, and the texts stay ``hf``'s with the unmerged adapter."""
    from lm_eval.models.huggingface import HFLM
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    from tracekd_ext.generation.backend import PrefixReuseHFLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)  # random: changes outputs
    get_peft_model(base, lora).save_pretrained(tmp_path / "adapter")
    expected, hf = _generate(HFLM, tiny_model_dir, prompts, 3, peft=str(tmp_path / "adapter"))
    generated, lm = _generate(PrefixReuseHFLM, tiny_model_dir, prompts, 3, peft=str(tmp_path / "adapter"))
    assert isinstance(hf.model, PeftModel) and not isinstance(lm.model, PeftModel) and lm.merged_adapter_parameters > 0
    assert generated == expected
    assert generated != _generate(HFLM, tiny_model_dir, prompts, 3)[0]  # the adapter does change the texts


def test_cascade_attention_over_a_shared_prefix_equals_sdpa_over_the_whole_cache():
    """Attention over a prefix held once plus each row's own positions, merged by log-sum-exp, is ``sdpa`` over
    every row's full cache (grouped query heads, left padding masked)."""
    from types import SimpleNamespace

    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    from tracekd_ext.generation.shared_prefix import cascade_attention

    torch.manual_seed(0)
    batch, heads, kv_heads, dim, shared, own = 3, 6, 2, 8, 5, 4
    module = SimpleNamespace(num_key_value_groups=heads // kv_heads, layer_idx=1, is_causal=True)
    query = torch.randn(batch, heads, 1, dim)
    prefix = [(torch.randn(kv_heads, shared, dim), torch.randn(kv_heads, shared, dim)) for _ in range(2)]
    keys, values = torch.randn(batch, kv_heads, own, dim), torch.randn(batch, kv_heads, own, dim)
    own_mask = torch.ones(batch, 1, 1, own, dtype=torch.bool)
    own_mask[0, ..., :2] = False  # row 0: two positions of left padding
    full_keys = torch.cat([prefix[1][0].expand(batch, -1, -1, -1), keys], dim=2)
    full_values = torch.cat([prefix[1][1].expand(batch, -1, -1, -1), values], dim=2)
    full_mask = torch.cat([torch.ones(batch, 1, 1, shared, dtype=torch.bool), own_mask], dim=-1)
    expected, _ = sdpa_attention_forward(module, query, full_keys, full_values, full_mask, scaling=0.3)
    output, _ = cascade_attention(module, query, keys, values, own_mask, scaling=0.3, shared_prefix=prefix)
    assert output.shape == expected.shape == (batch, 1, heads, dim)
    torch.testing.assert_close(output, expected)
    plain, _ = cascade_attention(module, query, full_keys, full_values, full_mask, scaling=0.3)  # no prefix: sdpa
    torch.testing.assert_close(plain, expected)


def test_shared_prefix_length_is_what_every_row_starts_with():
    from tracekd_ext.generation.shared_prefix import shared_prefix_length

    assert shared_prefix_length([torch.tensor([1, 2, 3, 4]), torch.tensor([1, 2, 5]), torch.tensor([1, 2, 3])]) == 2
    assert shared_prefix_length([torch.tensor([1, 2]), torch.tensor([1, 2, 3])]) == 2
    assert shared_prefix_length([torch.tensor([7, 2]), torch.tensor([1, 2])]) == 0


def test_a_batch_with_a_long_shared_prefix_decodes_it_held_once_and_generates_what_hf_generates(
        tiny_model_dir, prompts):
    """The rows of a batch share a prompt head (the instruction) longer than ``MIN_SHARED_TOKENS``: tracekd-hf
    holds its keys and values once while decoding (cascade attention), and every text is still ``hf``'s, with
    rows stopping at different steps."""
    from lm_eval.models.huggingface import HFLM

    from tracekd_ext.generation.backend import PrefixReuseHFLM
    from tracekd_ext.generation.shared_prefix import MIN_SHARED_TOKENS

    prompts = [prompts[0] + "\n\n" + prompt for prompt in prompts[1:]]  # as a shot before each problem
    until = ["</answer>", "e", "t"]
    expected, _ = _generate(HFLM, tiny_model_dir, prompts, len(prompts), until=until, max_gen_toks=24)
    generated, lm = _generate(PrefixReuseHFLM, tiny_model_dir, prompts, len(prompts), until=until, max_gen_toks=24)
    assert lm.work["shared_prefix_tokens"] >= MIN_SHARED_TOKENS
    assert generated == expected
    assert len({len(text) for text in expected}) > 1  # rows stopped at different steps
    held_per_row, lm_per_row = _generate(PrefixReuseHFLM, tiny_model_dir, prompts, len(prompts), until=until,
                                         max_gen_toks=24, shared_prefix_attention=False)
    assert held_per_row == expected and lm_per_row.work["shared_prefix_tokens"] == 0


def test_the_lm_head_computes_weight_times_hidden_while_decoding_and_is_restored_after():
    from types import SimpleNamespace

    from tracekd_ext.generation.greedy import head_times_hidden

    head = torch.nn.Linear(8, 50, bias=False)
    hidden = torch.randn(3, 1, 8)
    expected = head(hidden)
    with head_times_hidden(SimpleNamespace(get_output_embeddings=lambda: head)):
        assert "forward" in vars(head)
        torch.testing.assert_close(head(hidden), expected)
    assert "forward" not in vars(head)
    biased = torch.nn.Linear(8, 50)  # not a plain product: left as it is
    with head_times_hidden(SimpleNamespace(get_output_embeddings=lambda: biased)):
        assert "forward" not in vars(biased)
    bf16 = torch.nn.Linear(8, 50, bias=False, dtype=torch.bfloat16)  # measured only in float32: left as it is
    with head_times_hidden(SimpleNamespace(get_output_embeddings=lambda: bf16)):
        assert "forward" not in vars(bf16)
