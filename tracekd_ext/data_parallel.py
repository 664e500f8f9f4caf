"""Data-parallel evaluation and training on CPU processes:
``accelerate launch --multi_gpu --num_processes N -m tracekd_ext eval ...`` (or ``-m tracekd_train``).

accelerate 1.x starts several processes through torchrun (``--multi_gpu``); ``--cpu`` starts ONE process unless
mpirun is set up. On a machine without a GPU, :func:`use_cpu_processes` makes the processes torchrun started
join one gloo process group on the CPU (``ACCELERATE_USE_CPU``, which ``--multi_gpu`` does not set), and
:func:`note_single_process` says when ``accelerate launch --cpu --num_processes N`` started one process.

lm-eval 0.4.13's ``hf`` model takes its rank and world size from accelerate only when it counts more than one
GPU; on CPU processes every process calls itself rank 0 of 1, evaluates every item and writes the same results
file. ``tracekd-hf`` takes them from accelerate (:func:`use_accelerate_ranks`), so each process evaluates its
share of the items and lm-eval's evaluator gathers every sample to rank 0 before it aggregates (pair statistics
included). A ``--model hf`` run on several CPU processes is refused with one line (docs/upstream.md has the
upstream fix); on GPUs ``hf`` is data-parallel as it is.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from tracekd_ext.errors import TracekdError


def launched_processes() -> int:
    """How many processes the launcher started (``WORLD_SIZE``, set by accelerate and torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def use_cpu_processes() -> None:
    """Processes launched without a GPU to run on: accelerate's CPU (gloo) process group, not CUDA's."""
    if launched_processes() > 1 and "ACCELERATE_USE_CPU" not in os.environ:
        import torch

        if not torch.cuda.is_available():
            os.environ["ACCELERATE_USE_CPU"] = "true"


def note_single_process(prog: str) -> None:
    """``accelerate launch --cpu --num_processes N`` (N > 1) runs one process (it sets ``MASTER_ADDR`` and
    ``ACCELERATE_USE_CPU`` but starts no others): say so and how to start N."""
    if os.environ.get("MASTER_ADDR") and os.environ.get("ACCELERATE_USE_CPU", "").lower() == "true" \
            and "WORLD_SIZE" not in os.environ:
        print(f"{prog}: note: one process is running (accelerate launch --cpu starts one unless mpirun is set "
              "up); for several CPU processes: accelerate launch --multi_gpu --num_processes N -m ...",
              file=sys.stderr)


def use_accelerate_ranks(lm: Any) -> None:
    """Give an ``HFLM`` that lm-eval left single-process the accelerator's rank and world size."""
    accelerator = getattr(lm, "accelerator", None)
    if accelerator is not None and accelerator.num_processes > 1 and lm.world_size == 1:
        lm._rank = accelerator.process_index
        lm._world_size = accelerator.num_processes


def check_data_parallel_model(lm_eval_args: list[str]) -> None:
    """Refuse ``--model hf`` on several CPU processes, where each would evaluate everything as rank 0."""
    model = next((lm_eval_args[i + 1] for i, arg in enumerate(lm_eval_args[:-1]) if arg == "--model"),
                 next((arg.split("=", 1)[1] for arg in lm_eval_args if arg.startswith("--model=")), "hf"))
    if model != "hf" or launched_processes() < 2:
        return
    import torch

    if torch.cuda.device_count() < 2:
        raise TracekdError(f"--model hf on {launched_processes()} CPU processes: lm-eval 0.4.13's hf model is "
                           "data-parallel only across GPUs (each process would evaluate every item); use "
                           "--model tracekd-hf (the same model arguments), which takes its rank from accelerate")
