"""``tracekd eval`` is lm-eval 0.4.13's command line plus tracekd's tasks and model, nothing removed (issue 18,
item 2): its subcommands and the bare form, a ``--config`` file's metadata, a user's own ``--include_path``, and
task listing; each form resolves a task to the same config as plain ``lm_eval --include_path <folder>``."""

from __future__ import annotations

import json
import sys

import pytest
import yaml
from cli_helpers import one_line_error, run_cli

from tracekd_ext.cli import main
from tracekd_ext.commands import eval as eval_command
from tracekd_ext.task_registry import tasks_dir

TASK = "cotemp_synth_trace"  # generated problems: no data folder needed


def user_task_folder(tmp_path):
    """A user's own task folder: a task of theirs built on tracekd's synthetic task."""
    folder = tmp_path / "my_tasks"
    folder.mkdir()
    base = f"{tasks_dir()}/trace_qa/cotemp_synth_qa/{TASK}.yaml"
    (folder / "my_synth.yaml").write_text(f"include: {base}\ntask: my_synth\n", encoding="utf-8")
    return folder


def plain_lm_eval_args(monkeypatch, *argv):
    """What ``lm_eval ARGV...`` parses to (lm-eval's own HarnessCLI reads sys.argv)."""
    from lm_eval._cli import HarnessCLI

    monkeypatch.setattr(sys, "argv", ["lm_eval", *argv])
    return HarnessCLI().parse_args()


def task_config(args, task: str) -> dict:
    """The config lm-eval builds for ``task`` from parsed ``run`` arguments (lm-eval's EvaluatorConfig and
    TaskManager; only the include paths are indexed, which resolve the same names)."""
    from lm_eval.config.evaluate_config import EvaluatorConfig
    from lm_eval.tasks import TaskManager

    settings = EvaluatorConfig.from_cli(args)
    manager = TaskManager(include_path=settings.include_path, include_defaults=False, metadata=settings.metadata)
    config = manager.load([task])["tasks"][task].config.to_dict()
    return json.loads(json.dumps(config, default=str))


def test_every_form_parses_as_lm_eval_with_tracekds_folder_first(tmp_path):
    own = str(user_task_folder(tmp_path))
    run = ["--model", "dummy", "--tasks", TASK]
    for argv, command in (([*run], "run"), (["run", *run], "run"), (["ls", "tasks"], "ls"),
                          (["validate", "--tasks", TASK], "validate")):
        args = eval_command.parse(argv)
        assert args.command == command and args.include_path == [tasks_dir()], argv
        assert eval_command.parse([*argv, "--include_path", own]).include_path == [tasks_dir(), own]
    assert eval_command.parse([]).command is None


def test_bare_and_run_help_and_usage_errors(capsys):
    code, out, _ = run_cli(capsys, "eval", "--help")
    assert code == 0 and "usage: tracekd eval" in out and "validate" in out and "tracekd-hf" in out
    code, out, _ = run_cli(capsys, "eval", "run")
    assert code == 0 and "--include_path" in out and "--metadata" in out
    code, _, err = run_cli(capsys, "eval", "ls", "nonsense")
    assert code == 2 and "invalid choice: 'nonsense'" in err


def test_config_metadata_is_kept_and_tracekds_goes_under_the_users(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"model": "dummy", "tasks": [TASK], "metadata": {"scoring": "paper"}}))
    assert eval_command.parse(["--config", str(config)]).metadata == {"fewshot_pool": False, "scoring": "paper"}
    # the user's value wins over tracekd's; a --metadata on the command line replaces the file's (lm-eval's rule)
    args = eval_command.parse(["--config", str(config), "--metadata", '{"fewshot_pool": true, "split": "train"}'])
    assert args.metadata == {"fewshot_pool": True, "split": "train"}
    config.write_text(yaml.safe_dump({"model": "dummy", "tasks": [TASK], "num_fewshot": 1,
                                      "metadata": "scoring=paper"}))
    assert eval_command.parse(["--config", str(config)]).metadata == {"scoring": "paper"}


def test_a_config_files_include_path_is_searched_beside_tracekds(tmp_path):
    own = str(user_task_folder(tmp_path))
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"model": "dummy", "tasks": ["my_synth"], "include_path": own}))
    assert eval_command.parse(["run", "--config", str(config)]).include_path == [tasks_dir(), own]


def test_each_form_resolves_the_task_config_plain_lm_eval_does(tmp_path, monkeypatch):
    own = str(user_task_folder(tmp_path))
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"model": "dummy", "tasks": [TASK], "num_fewshot": 1,
                                      "metadata": {"scoring": "paper", "size": 20}}))
    run = ["--model", "dummy", "--num_fewshot", "1", "--metadata", '{"scoring": "paper", "size": 20}']
    forms = [  # (tracekd eval ..., lm_eval ..., task)
        ([*run, "--tasks", TASK], ["--include_path", tasks_dir(), *run, "--tasks", TASK], TASK),
        (["run", *run, "--tasks", TASK], ["run", "--include_path", tasks_dir(), *run, "--tasks", TASK], TASK),
        (["--config", str(config)], ["--config", str(config), "--include_path", tasks_dir()], TASK),
        ([*run, "--tasks", "my_synth", "--include_path", own], [*run, "--tasks", "my_synth", "--include_path", own],
         "my_synth"),
    ]
    for ours, theirs, task in forms:
        resolved = task_config(eval_command.parse(ours), task)
        assert resolved["metadata"]["scoring"] == "paper" and resolved["metadata"]["size"] == 20
        assert resolved == task_config(plain_lm_eval_args(monkeypatch, *theirs), task), ours


def test_lm_evals_argument_checks_are_one_line(capsys, tmp_path):
    code, _, err = run_cli(capsys, "eval", "--model", "dummy", "--tasks", TASK, "--log_samples")
    assert code == 2 and "Specify --output_path" in one_line_error(err)
    code, _, err = run_cli(capsys, "eval", "--model", "dummy", "--limit", "1")
    assert code == 2 and "no tasks to evaluate: pass --tasks" in one_line_error(err)
    code, _, err = run_cli(capsys, "eval", "--config", tmp_path / "missing.yaml")
    assert code == 2 and "missing.yaml" in one_line_error(err)
    (tmp_path / "list.yaml").write_text("- 1\n")
    code, _, err = run_cli(capsys, "eval", "--config", tmp_path / "list.yaml")
    assert code == 2 and "YAML root must be a mapping" in one_line_error(err)


def test_an_error_while_evaluating_keeps_its_traceback(monkeypatch):
    import lm_eval

    def bug(**kwargs):
        raise ValueError("an evaluation-time bug")

    monkeypatch.setattr(lm_eval, "simple_evaluate", bug)
    with pytest.raises(ValueError, match="evaluation-time bug"):
        main(["eval", "--model", "dummy", "--tasks", TASK])


def test_a_local_model_folder_that_does_not_exist_is_one_line(capsys, tmp_path):
    for model in ("hf", "tracekd-hf"):
        code, _, err = run_cli(capsys, "eval", "--model", model, "--model_args", f"pretrained={tmp_path}/nope",
                               "--tasks", TASK)
        assert code == 2 and f"pretrained={tmp_path}/nope: no such model folder" in one_line_error(err)


@pytest.mark.slow  # lm-eval indexes its own task folders (tens of seconds on a shared CPU)
def test_ls_and_validate_see_tracekds_and_the_users_tasks(capsys, tmp_path):
    own = user_task_folder(tmp_path)
    code, out, _ = run_cli(capsys, "eval", "ls", "tasks", "--include_path", own)
    listed = {cell.strip() for line in out.splitlines() for cell in line.split("|")[1:2]}  # first column
    assert code == 0 and {TASK, "my_synth", "trace_qa", "hellaswag"} <= listed
    code, out, _ = run_cli(capsys, "eval", "validate", "--tasks", f"{TASK},my_synth", "--include_path", own)
    assert code == 0 and "All tasks found and valid" in out


@pytest.mark.slow  # lm-eval indexes its own task folders
def test_tasks_list_points_to_ls(capsys):
    code, _, err = run_cli(capsys, "eval", "--model", "dummy", "--tasks", "list")
    assert code == 2 and one_line_error(err).endswith("Tasks not found: list; lm-eval 0.4.13 lists tasks with "
                                                      "`tracekd eval ls tasks`")
