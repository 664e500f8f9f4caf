"""The ``tracekd-hf`` lm-eval model (:mod:`tracekd_ext.generation.backend`) and its registration with lm-eval."""

from __future__ import annotations

from tracekd_ext.generation import MODEL_NAME


def register_tracekd_hf() -> type:
    """Register ``tracekd-hf`` in lm-eval's model registry (once: a later call finds it there) and return its
    class. ``tracekd eval`` and the demo call it before lm-eval resolves ``--model``."""
    from lm_eval.api.registry import MODEL_REGISTRY, register_model

    from tracekd_ext.generation.backend import PrefixReuseHFLM

    if MODEL_NAME not in MODEL_REGISTRY:
        register_model(MODEL_NAME)(PrefixReuseHFLM)
    return PrefixReuseHFLM
