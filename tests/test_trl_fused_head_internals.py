"""What ``train/trainer.py``'s ``score_labelled_positions_only`` takes from TRL beyond its documented use: the
private device test ``trl.trainer.utils._use_triton``, which TRL's fused LM head (``add_fused_lm_head``) reads to
decide whether it projects only the labelled positions. If a TRL release renames or stops reading it, the patch
would silently do nothing (training stays correct, only slower on a CPU), so these checks fail loudly instead,
naming the TRL version."""

from __future__ import annotations

import inspect

import torch
import trl
from trl.trainer import utils

RELEASE = f"TRL {trl.__version__}"


def test_trl_has_the_device_test_its_fused_head_reads():
    assert callable(getattr(utils, "_use_triton", None)), (
        f"{RELEASE}: trl.trainer.utils._use_triton is gone; train/trainer.py score_labelled_positions_only no longer "
        "makes the fused LM head score only labelled positions on a CPU (find what replaced it)")
    source = inspect.getsource(utils.add_fused_lm_head)
    assert "_use_triton(hidden_states.device)" in source, (
        f"{RELEASE}: add_fused_lm_head no longer asks _use_triton(hidden_states.device) whether to project only the "
        "labelled positions; train/trainer.py score_labelled_positions_only patches nothing it reads")


def test_the_patch_makes_the_cpu_score_only_labelled_positions(monkeypatch):
    from trl.kernels import chunked_logprob

    from tracekd_train.trainer import score_labelled_positions_only

    monkeypatch.setattr(utils, "_use_triton", chunked_logprob._use_triton)  # TRL's own; restored after the test
    assert not utils._use_triton(torch.device("cpu")), (
        f"{RELEASE} scores only labelled positions on a CPU itself: score_labelled_positions_only can go")
    score_labelled_positions_only()
    assert utils._use_triton(torch.device("cpu"))
    patched = utils._use_triton
    score_labelled_positions_only()  # once only
    assert utils._use_triton is patched
