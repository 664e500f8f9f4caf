"""The lm-eval tasks tracekd ships: one family per dataset, each bound to an adapter and task kinds.

The task folders under ``tasks/trace_qa/`` are generated from :data:`FAMILIES` by
``tasks/trace_qa/_generate_configs.py`` (the generator's ``--check`` mode is run by a test), so a task name here
is a task lm-eval finds there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracekd_ext.errors import TracekdError


@dataclass(frozen=True)
class TaskFamily:
    """The tasks of one dataset, in folder ``tasks/trace_qa/<folder>/``.

    ``prefix``: task names are ``<prefix>_trace``, ``<prefix>_direct``, ``<prefix>_free`` and
    ``<prefix>_intervene_<condition>``; ``dataset``: the adapter; ``max_gen_toks``: kind (``trace``, ``direct``,
    ``free``: free-form reasoning, room for a thinking model) -> generation budget, for the kinds
    the family has (every family also has the intervention tasks); ``metadata``: task metadata beyond the
    common keys (the adapter's options); ``dataset_path`` / ``dataset_name``: where the data comes from
    (documentation in the YAML: ``custom_dataset`` reads it); ``in_groups``: gathered by ``trace_qa``,
    ``trace_qa_free`` and ``trace_interventions``."""

    prefix: str
    dataset: str
    folder: str
    dataset_path: str
    max_gen_toks: dict[str, int]
    metadata: dict[str, object] = field(default_factory=dict)
    dataset_name: str | None = None
    in_groups: bool = True

    @property
    def intervention_group(self) -> str:
        """The group of the family's intervention tasks."""
        return f"{self.prefix}_intervene"


FREE_TOKENS = 2048  # free-form reasoning: a thinking model's think block and answer (settable with --gen_kwargs)
FAMILIES: tuple[TaskFamily, ...] = (
    TaskFamily("cotemp", "cotemp", "cotemp_qa", "Warrieryes/CotempQA",
               {"trace": 512, "direct": 128, "free": FREE_TOKENS}),
    TaskFamily("babi", "babi", "babi_qa", "facebook/babi_qa", {"trace": 512, "direct": 128, "free": FREE_TOKENS}),
    # passages are long: a trace citing two or three needs the room
    TaskFamily("marco", "marco", "marco_qa", "microsoft/ms_marco", {"trace": 1024, "direct": 128,
                                                                     "free": FREE_TOKENS}, dataset_name="v2.1"),
    TaskFamily("cotemp_synth", "synth", "cotemp_synth_qa", "tracekd/synth", {"trace": 512, "free": FREE_TOKENS},
               metadata={"size": 200, "seed": 42, "distractors": 6}, in_groups=False),
)

# task name -> (dataset, kind); kind "trace" scores steps and answer, "direct" the answer only, "free" the steps
# of free-form reasoning and its final answer.
TASKS: dict[str, tuple[str, str]] = {f"{f.prefix}_{kind}": (f.dataset, kind)
                                     for f in FAMILIES for kind in f.max_gen_toks}
# dataset -> the group of its intervention tasks
INTERVENTION_GROUPS: dict[str, str] = {f.dataset: f.intervention_group for f in FAMILIES}
GROUPS: dict[str, tuple[str, ...]] = {
    "trace_qa": tuple(f"{f.prefix}_trace" for f in FAMILIES if f.in_groups and "trace" in f.max_gen_toks),
    "trace_qa_free": tuple(f"{f.prefix}_free" for f in FAMILIES if f.in_groups and "free" in f.max_gen_toks),
}


def task_info(name: str) -> tuple[str, str]:
    """``(dataset, kind)`` of a task; an unknown name is a one-line error listing the known ones."""
    if name not in TASKS:
        raise TracekdError(f"unknown task '{name}'; known tasks: {', '.join(TASKS)}")
    return TASKS[name]


def family_of(name: str) -> TaskFamily:
    """The family a task belongs to (its metadata: the values the task passes to its adapter)."""
    dataset, _ = task_info(name)
    return next(f for f in FAMILIES if f.dataset == dataset)


def tasks_dir() -> str:
    """The folder to pass to lm-eval's ``--include_path``."""
    from tracekd_tasks import TASKS_DIR

    return str(TASKS_DIR)
