"""The lm-eval task names tracekd ships, each bound to a dataset and a task kind."""

from __future__ import annotations

from tracekd_ext.errors import TracekdError

# task name -> (dataset, kind); kind "trace" scores steps and answer, "direct" the answer only.
TASKS: dict[str, tuple[str, str]] = {
    "cotemp_trace": ("cotemp", "trace"),
    "cotemp_direct": ("cotemp", "direct"),
    "babi_trace": ("babi", "trace"),
    "babi_direct": ("babi", "direct"),
    "marco_trace": ("marco", "trace"),
    "marco_direct": ("marco", "direct"),
}
GROUPS: dict[str, tuple[str, ...]] = {
    "trace_qa": ("cotemp_trace", "babi_trace", "marco_trace"),
}


def task_info(name: str) -> tuple[str, str]:
    """``(dataset, kind)`` of a task; an unknown name is a one-line error listing the known ones."""
    if name not in TASKS:
        raise TracekdError(f"unknown task '{name}'; known tasks: {', '.join(TASKS)}")
    return TASKS[name]


def tasks_dir() -> str:
    """The folder to pass to lm-eval's ``--include_path``."""
    from tracekd_tasks import TASKS_DIR

    return str(TASKS_DIR)
