"""``tracekd-hf``: lm-eval's ``hf`` model, with greedy generation made faster on CPU.

Each prompt of a batch is prefilled alone, without padding (so attention runs its causal kernel rather than a
masked one over padding), starting from the keys and values of the longest token prefix already prefilled
(``PrefixStore``); the rows are then assembled into one left-padded cache that grows in place, and lm-eval's own
``generate`` call decodes from it with its stop sequences. The prompt's last token is left to ``generate``,
which needs one new token to start. Everything else (requests, batching, chat templates, loglikelihood) is
``HFLM``'s; generation that this path does not cover (beam search, right padding, sliding-window caches) is
``HFLM``'s too.

    tracekd eval --model tracekd-hf --model_args pretrained=MODEL[,prefix_cache_mib=2048] ...

(``shared_prefix_attention=False``: a batch's shared prompt prefix is held once per row while decoding.)

``tracekd_ext.harness.model.register_tracekd_hf`` registers the model with lm-eval (``tracekd eval`` and
``tracekd demo`` call it).
"""

from __future__ import annotations

import inspect
from functools import cached_property

import torch
from lm_eval.models.huggingface import HFLM
from tqdm.auto import tqdm
from transformers import DynamicCache

from tracekd_ext.data_parallel import use_accelerate_ranks
from tracekd_ext.generation import MODEL_NAME
from tracekd_ext.generation.greedy import StopRule, eos_token_ids, greedy_decode, plain_greedy
from tracekd_ext.generation.kv_cache import KeyValues, left_padded_cache, supports_growing_cache
from tracekd_ext.generation.prefix_store import DEFAULT_BUDGET_BYTES, Prefilled, PrefixStore
from tracekd_ext.generation.shared_prefix import MIN_SHARED_TOKENS, shared_keys_values, shared_prefix_length
from tracekd_ext.options import as_bool, check, nonnegative_int


def unpadded_rows(context: torch.Tensor, attention_mask: torch.Tensor) -> list[torch.Tensor] | None:
    """Each row's tokens without its left padding; None when a row is not left-padded."""
    rows = []
    for tokens, mask in zip(context, attention_mask, strict=True):
        start = int(mask.argmax())
        if not bool(mask[start:].all()):
            return None
        rows.append(tokens[start:])
    return rows


class PrefixReuseHFLM(HFLM):
    """``hf`` with per-prompt prefill, prefix reuse and an in-place cache; ``prefix_cache_mib``: memory for
    the keys and values kept for reuse (0: no reuse); ``shared_prefix_attention``: a batch's shared prompt prefix
    is held once while decoding (``shared_prefix.py``; False: once per row, as ``generate`` holds it)."""

    def __init__(self, *args, prefix_cache_mib: int = DEFAULT_BUDGET_BYTES >> 20, shared_prefix_attention: bool = True,
                 **kwargs):
        cache_bytes = check("--model_args prefix_cache_mib", prefix_cache_mib, nonnegative_int) << 20  # before loading
        self.shared_prefix_attention = as_bool("--model_args shared_prefix_attention", shared_prefix_attention)
        super().__init__(*args, **kwargs)
        self.merged_adapter_parameters = 0
        if getattr(self, "peft", None) and hasattr(self._model, "merge_and_unload"):  # lm-eval keeps peft= as a
            with_adapter = self._model.num_parameters()  # PeftModel: folded in, a step is 1.1x faster (BENCHMARKS.md)
            self._model = self._model.merge_and_unload()
            self.merged_adapter_parameters = with_adapter - self._model.num_parameters()
        use_accelerate_ranks(self)  # data-parallel on CPU processes too (tracekd_ext.data_parallel)
        self.prefix_store = PrefixStore(cache_bytes)
        # what generation computed, for benchmarks (shared_prefix_tokens: summed over batches)
        self.work = {"prefilled_tokens": 0, "decoded_row_steps": 0, "shared_prefix_tokens": 0}

    def get_model_info(self) -> dict:
        """lm-eval's model info (in the results' ``config``), with this backend, the parameters of the adapter it
        merged into the weights, the prompt tokens it reused and the work its generation did (prompt tokens
        prefilled, row-steps decoded)."""
        return {**super().get_model_info(), "generation_backend": MODEL_NAME,
                "merged_adapter_parameters": self.merged_adapter_parameters,
                "prefix_tokens_reused": self.prefix_store.reused_tokens, **self.work}

    @cached_property
    def _growing_cache_ok(self) -> bool:
        return self.backend == "causal" and supports_growing_cache(self.model.config)

    @cached_property
    def _cache_kwarg(self) -> str:
        """transformers renamed ``past_key_values`` to ``cache`` in 5.x (the old name warns, then goes)."""
        model = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
        return "cache" if "cache" in inspect.signature(type(model).forward).parameters else "past_key_values"

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        self._progress = not disable_tqdm and self.rank == 0  # also within a batch (lm-eval's bar moves per batch)
        return super().generate_until(requests, disable_tqdm=disable_tqdm)

    def _model_generate(self, context, max_length: int, stop: list[str], **generation_kwargs):
        mask = generation_kwargs.get("attention_mask")
        rows = None if mask is None else unpadded_rows(context, mask)
        if (not self._growing_cache_ok or rows is None or min(len(r) for r in rows) < 2
                or generation_kwargs.get("num_beams", 1) != 1 or self._cache_kwarg in generation_kwargs):
            return super()._model_generate(context, max_length, stop, **generation_kwargs)
        progress = getattr(self, "_progress", False)
        greedy = plain_greedy(self.model.generation_config,
                              {k: v for k, v in generation_kwargs.items() if k != "attention_mask"})
        with torch.autocast(device_type=self.device.type, dtype=self.mixed_precision_dtype,
                            enabled=self.mixed_precision_dtype is not None):
            prefilled = [self._prefill(row[:-1]) for row in tqdm(
                rows, desc=f"prefilling {len(rows)} prompts", unit="prompt", disable=not progress, leave=False)]
            shared = self._shared_tokens(rows) if greedy else 0
            cache = left_padded_cache([[(k[:, :, shared:], v[:, :, shared:]) for k, v in row] for row in prefilled],
                                      context.shape[1] - 1 - shared, max_length - shared)
            if greedy:
                rule = StopRule(self.tokenizer, stop, eos_token_ids(self.model.generation_config))
                output, row_steps = greedy_decode(
                    self.model, cache, context, mask, max_length - context.shape[1], rule, self.tokenizer.pad_token_id,
                    self._cache_kwarg, progress, shared_keys_values(prefilled[0], shared) if shared else None)
                self.work["decoded_row_steps"] += row_steps
                self.work["shared_prefix_tokens"] += shared
                return output
        generation_kwargs[self._cache_kwarg] = cache
        output = super()._model_generate(context, max_length, stop, **generation_kwargs)
        self.work["decoded_row_steps"] += output.shape[0] * (output.shape[1] - context.shape[1])
        return output

    def _shared_tokens(self, rows: list[torch.Tensor]) -> int:
        """The prompt tokens all rows of a batch share, held once while decoding (``shared_prefix``), or 0 where
        that is not worth it or the model does not run ``sdpa`` attention."""
        if not self.shared_prefix_attention or len(rows) < 2 or self.model.config._attn_implementation != "sdpa":
            return 0
        shared = shared_prefix_length([row[:-1] for row in rows])
        return shared if shared >= MIN_SHARED_TOKENS else 0

    @torch.no_grad()
    def _prefill(self, prompt: torch.Tensor) -> KeyValues:
        """Keys and values of ``prompt`` (1-D), computed from its longest prefix in the store onwards."""
        entry, reused = self.prefix_store.longest_prefix(prompt)
        if entry is not None and reused == len(prompt):
            return entry.head(reused)
        cache = DynamicCache(config=self.model.config)
        if entry is not None:
            for layer, (keys, values) in enumerate(entry.head(reused)):
                cache.update(keys, values, layer)
        self.work["prefilled_tokens"] += len(prompt) - reused
        self.model(input_ids=prompt[reused:][None], use_cache=True, logits_to_keep=1, **{self._cache_kwarg: cache})
        key_values = [(layer.keys, layer.values) for layer in cache.layers]
        self.prefix_store.add(Prefilled(prompt, key_values))
        return key_values
