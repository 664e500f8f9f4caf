"""A scripted lm-eval LM for plumbing tests: it answers each request from its doc (gold traces, wrong traces,
wrong answers, bare answers), so reproduced statistics are non-trivial. Real-model runs are tested separately."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def oracle_lm(answer: Callable[[dict[str, Any], int], str]):
    """An ``lm_eval.api.model.LM`` whose generation for a request is ``answer(doc, doc_id)``."""
    from lm_eval.api.model import LM

    class Oracle(LM):
        def generate_until(self, requests, disable_tqdm=False):
            return [answer(request.doc, request.doc_id) for request in requests]

        def loglikelihood(self, requests, disable_tqdm=False):
            raise NotImplementedError

        def loglikelihood_rolling(self, requests, disable_tqdm=False):
            raise NotImplementedError

    return Oracle()
