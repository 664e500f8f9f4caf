"""Faster greedy generation for lm-eval's ``hf`` backend on CPU, as the lm-eval model ``tracekd-hf``
(``backend.py``): prompts are prefilled one at a time without padding, reusing the keys and values of the
longest token prefix already prefilled (``prefix_store.py``), and decoded together in a key/value cache that
grows in place (``kv_cache.py``)."""

MODEL_NAME = "tracekd-hf"  # the lm-eval model name (tracekd_ext.harness.model.register_tracekd_hf)
