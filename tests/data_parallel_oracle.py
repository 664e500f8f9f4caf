"""``accelerate launch --multi_gpu --num_processes 2 tests/data_parallel_oracle.py OUT.json`` (or plain python):
lm-eval's evaluator on cotemp_trace with the scripted oracle LM, split across the launched processes, as a
data-parallel ``HFLM`` is (rank, world size, gather over torch.distributed). Rank 0 writes the results and
the per-sample metric values, so a test compares them with a one-process run: the pair statistics are only
right when every rank's items reach the aggregation."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from data_paths import DATA  # noqa: E402
from oracle_lm import oracle_lm  # noqa: E402
from test_lm_eval_cotemp import mixed_answer  # noqa: E402

from tracekd_ext.data_parallel import launched_processes, use_cpu_processes  # noqa: E402
from tracekd_ext.metrics import PAIR_METRICS, STEP_METRICS  # noqa: E402
from tracekd_ext.task_registry import tasks_dir  # noqa: E402

LIMIT = 40


def data_parallel(lm):
    """The oracle with the launched processes' rank and world size, gathering as ``HFLM`` does."""
    import torch.distributed as dist
    from accelerate import PartialState

    state = PartialState(cpu=True)
    lm._rank, lm._world_size = state.process_index, state.num_processes
    lm.all_gather = lambda tensor: state_gather(tensor)
    lm.barrier = state.wait_for_everyone

    def gather_object(obj, dst=0):
        result = [None] * lm.world_size if lm.rank == dst else None
        dist.gather_object(obj=obj, object_gather_list=result, dst=dst)
        return result

    lm.gather_object = gather_object
    return lm


def state_gather(tensor):
    from accelerate.utils import gather

    return gather(tensor)


def main(out: Path) -> None:
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    use_cpu_processes()
    lm = oracle_lm(mixed_answer)
    if launched_processes() > 1:
        lm = data_parallel(lm)
    manager = TaskManager(include_path=tasks_dir(), include_defaults=False, metadata={"data_dir": str(DATA)})
    done = simple_evaluate(model=lm, tasks=["cotemp_trace"], task_manager=manager, limit=LIMIT,
                           log_samples=True, bootstrap_iters=0)
    if done is None:  # ranks other than 0
        return
    names = [*STEP_METRICS, *PAIR_METRICS]
    samples = sorted(done["samples"]["cotemp_trace"], key=lambda s: s["doc_id"])
    out.write_text(json.dumps({
        "world_size": lm.world_size, "rank": lm.rank, "pid": os.getpid(),
        "results": done["results"]["cotemp_trace"],
        "samples": [[s["doc_id"], s["resps"], *[s.get(n) for n in names]] for s in samples],
    }, default=str))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
