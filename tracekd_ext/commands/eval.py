"""``tracekd eval``: lm_eval with tracekd's task folder on the include path; every lm_eval flag works."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tracekd_ext.errors import TracekdError
from tracekd_ext.task_registry import tasks_dir

# where lm-eval checks its command line; a ValueError raised there is the user's (one line)
ARGUMENT_CHECKS = ("lm_eval/_cli/", "lm_eval/config/evaluate_config.py")

HELP = """Runs lm-evaluation-harness with tracekd's tasks (cotemp_trace, cotemp_direct, group trace_qa, ...).
All arguments go to lm_eval unchanged; tracekd adds --include_path itself. Local data:
TRACEKD_DATA_DIR=DIR or --metadata '{"data_dir": "DIR"}'; scoring: --metadata '{"scoring": "paper"}'.
Keep lm-eval's think_end_token unset: it deletes the trace before scoring.
--model tracekd-hf: the hf model (same --model_args) with faster greedy generation on CPU (per-prompt prefill
reusing shared prompt prefixes, a cache that grows in place).

Example:
  tracekd eval --model hf --model_args pretrained=HuggingFaceTB/SmolLM2-135M-Instruct \\
      --tasks cotemp_trace --num_fewshot 2 --apply_chat_template --output_path runs --log_samples

lm_eval's own options follow.
"""


def add_parser(subparsers) -> None:
    # prefix_chars="+": every "-" argument is lm_eval's, so argparse passes them all through unparsed.
    parser = subparsers.add_parser("eval", help="run lm_eval with tracekd's tasks", add_help=False, prefix_chars="+",
                                   description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lm_eval_args", nargs=argparse.REMAINDER, help="arguments for lm_eval")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rest = list(args.lm_eval_args)
    if any(a in ("-h", "--help") for a in rest) or not rest:
        print(HELP)
    if any(a == "--include_path" or a.startswith("--include_path=") for a in rest):
        raise TracekdError("tracekd eval sets --include_path itself (lm-eval 0.4.13 takes one); "
                           f"run lm_eval --include_path {tasks_dir()} for other setups")
    from lm_eval.__main__ import cli_evaluate

    import tracekd_ext.generation.backend  # noqa: F401  (registers --model tracekd-hf)

    sys.argv = ["lm_eval", "--include_path", tasks_dir(), *zero_shot_metadata(rest), *rest]
    try:
        cli_evaluate()
    except SystemExit as done:
        return int(done.code or 0) if not isinstance(done.code, str) else 2
    except (ValueError, FileNotFoundError) as err:
        if not raised_by_argument_checks(err):
            raise  # an error while evaluating is a bug somewhere: keep its traceback
        raise TracekdError(str(err)) from None
    return 0


def zero_shot_metadata(lm_eval_args: list[str]) -> list[str]:
    """For a zero-shot run (no ``--num_fewshot``/``-f``, or 0), the metadata that keeps tracekd's tasks from
    loading their train split as a few-shot pool (MS MARCO from the hub would stream it). It goes before the
    user's arguments, so a ``--metadata`` of theirs is merged over it."""
    shots = None
    for i, arg in enumerate(lm_eval_args):
        if arg in ("--num_fewshot", "-f") and i + 1 < len(lm_eval_args):
            shots = lm_eval_args[i + 1]
        elif arg.startswith("--num_fewshot="):
            shots = arg.split("=", 1)[1]
    return ["--metadata", "fewshot_pool=False"] if shots in (None, "0") else []


def raised_by_argument_checks(err: BaseException) -> bool:
    """Whether lm-eval raised ``err`` while checking the command line (its CLI and ``EvaluatorConfig``:
    bad options, "Tasks not found: ..."), i.e. before any model or task code ran."""
    frame = err.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and any(part in Path(frame.tb_frame.f_code.co_filename).as_posix()
                                     for part in ARGUMENT_CHECKS)
