"""Training options (YAML + CLI), chat-template checks (delimiters, enable_thinking, pinned dates, lengths),
the evaluation command a run card suggests, and clear errors on bad input before any training."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from data_paths import REPO
from train_helpers import data_dir, tiny_model, trl_template

from tracekd_ext.cli import main
from tracekd_ext.errors import TracekdError
from tracekd_train.config import parse_config
from tracekd_train.eval_hint import eval_argv
from tracekd_train.trainer import prepare


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("tiny_tok"), problems=20)


def dry_run(model_dir, *extra) -> object:
    return prepare(parse_config(["--model_name_or_path", str(model_dir), "--data-dir", str(data_dir()), "--limit", "3",
                                 "--dry-run", *extra]))


def test_a_yaml_config_and_cli_flags_that_override_it(tmp_path):
    run = tmp_path / "run.yaml"
    run.write_text("learning_rate: 2e-4\nlora_r: 32\ncompletion_only_loss: false\nreport_to: none\n"
                   "variant: incorrect\nperturb-steps: [cls]\nmodel_name_or_path: m\n")
    config = parse_config(["--config", str(run), "--output-dir", "o", "--lora_r", "4", "--completion_only_loss",
                           "true", "--max_steps=7", "--no-gradient-checkpointing"])
    assert (config.model.lora_r, config.train.completion_only_loss, config.data.perturb_steps) == (4, True, ["cls"])
    assert config.train.learning_rate == 2e-4 and config.train.report_to == []
    assert config.train.max_steps == 7 and config.train.gradient_checkpointing is False
    assert config.model.lora_alpha == 32 and config.train.max_length == 1024  # paper defaults elsewhere


@pytest.mark.parametrize(("text", "message"), [
    ("lora_rank: 8\n", "unknown option 'lora_rank'"),
    ("packing: 1\n", "field 'packing': expected true or false"),
    ("variant: wrong\n", "field 'variant': 'wrong' is not one of answer, cls, correct, incorrect, teacher"),
    ("- a list\n", "must contain a YAML mapping"),
    ("a: [\n", "malformed YAML"),
])
def test_bad_yaml_is_a_one_line_error_naming_the_file(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(TracekdError, match=message) as err:
        parse_config(["--config", str(path)])
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_cli_errors_exit_2_with_one_line(capsys, tmp_path):
    assert main(["train", "--model_name_or_path", "m"]) == 2
    assert "--output-dir is required" in capsys.readouterr().err
    assert main(["train", "--model_name_or_path", "m", "--output-dir", str(tmp_path), "--variant", "teacher"]) == 2
    assert "needs --teacher-traces" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        main(["train", "--model_name_or_path", "m", "--output-dir", str(tmp_path), "--variant", "bogus"])
    assert done.value.code == 2 and "invalid choice: 'bogus'" in capsys.readouterr().err
    assert main(["train", "--model_name_or_path", str(tmp_path / "no_such_model"), "--output-dir",
                 str(tmp_path / "r")]) == 2
    assert "model path not found" in capsys.readouterr().err
    assert main(["train", "--model_name_or_path", "m", "--output-dir", str(tmp_path / "q"), "--load_in_4bit",
                 "true"]) == 2
    assert "QLoRA needs a CUDA GPU" in capsys.readouterr().err


def test_help_without_the_train_extra_is_a_one_line_error():
    code = textwrap.dedent("""
        import sys
        sys.modules["trl"] = sys.modules["peft"] = None  # as if the train extra were not installed
        from tracekd_ext.cli import main
        try:
            main(["--help"])
        except SystemExit as done:
            assert done.code == 0
        print("CODE:", main(["train", "--help"]))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    assert "CODE: 2" in done.stdout and "train" in done.stdout
    assert "training needs the 'trl' package" in done.stderr and 'pip install "tracekd[train]"' in done.stderr


def test_qwen3_template_keeps_the_trace_and_checks_enable_thinking(model_dir):
    qwen3 = str(trl_template("qwen3"))
    prepared = dry_run(model_dir, "--chat_template_path", qwen3)
    assert prepared.template_vars == {} and prepared.tokens.over_max_length == 0
    with pytest.raises(TracekdError, match="not a prefix of its training text.*enable_thinking"):
        dry_run(model_dir, "--chat_template_path", qwen3, "--enable_thinking", "false")
    answer = dry_run(model_dir, "--chat_template_path", qwen3, "--enable_thinking", "false", "--variant", "answer")
    assert answer.template_vars == {"enable_thinking": False}
    argv = eval_argv(answer.config, "RUN", answer.template_vars, answer.own_template)
    assert argv[argv.index("--tasks") + 1] == "cotemp_direct"
    assert '"chat_template_args": {"enable_thinking": false}' in argv[argv.index("--model_args") + 1]


def test_template_that_drops_the_reasoning_is_refused(model_dir, tmp_path):
    template = tmp_path / "strips_reasoning.jinja"
    template.write_text(
        "{% for m in messages %}<|{{ m['role'] }}|>{% if m['role'] == 'assistant' %}"
        "{{ m['content'].split('</think>')[-1] }}{% else %}{{ m['content'] }}{% endif %}<|end|>{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}")
    with pytest.raises(TracekdError, match="lost <think>, </think> from the assistant turn"):
        dry_run(model_dir, "--chat_template_path", str(template))
    assert dry_run(model_dir, "--chat_template_path", str(template), "--variant", "answer").tokens.examples == 3


def test_llama3_template_gets_a_pinned_date_and_the_eval_command_matches(model_dir, capsys):
    prepared = dry_run(model_dir, "--chat_template_path", str(trl_template("llama3_2")), "--system-prompt",
                       "You are Llama, an AI assistant.", "--instruction", "false")
    assert prepared.template_vars == {"date_string": "26 Jul 2024"} and "pinned" in capsys.readouterr().out
    argv = eval_argv(prepared.config, "RUN", prepared.template_vars, prepared.own_template)
    model_args = argv[argv.index("--model_args") + 1]
    assert '"peft": "RUN"' in model_args and '"tokenizer": "RUN"' in model_args
    assert '"date_string": "26 Jul 2024"' in model_args
    assert argv[argv.index("--system_instruction") + 1] == "You are Llama, an AI assistant."
    assert '"instruction": false' in argv[argv.index("--metadata") + 1]


def test_length_report_counts_examples_over_max_length(model_dir):
    report = dry_run(model_dir, "--max-length", "5000").tokens
    assert report.examples == 3 and report.over_max_length == 0 and report.completion_tokens > 0
    assert report.total_tokens == round(report.mean_tokens * 3)
    assert dry_run(model_dir, "--max-length", str(report.max_tokens)).tokens.over_max_length == 0
    cut = dry_run(model_dir, "--max-length", str(report.max_tokens - 1), "--allow-truncation").tokens
    assert cut.over_max_length >= 1
    with pytest.raises(TracekdError, match="no example keeps any of its completion"):
        dry_run(model_dir, "--max-length", "100", "--allow-truncation")


def test_full_fine_tuning_is_evaluated_as_a_whole_model():
    config = parse_config(["--model_name_or_path", "base", "--output_dir", "RUN", "--use_peft", "false"])
    argv = eval_argv(config, "RUN", {}, False)
    assert argv[argv.index("--model_args") + 1] == "pretrained=RUN"
    with pytest.raises(TracekdError, match="--merge applies to LoRA"):
        parse_config(["--model_name_or_path", "base", "--output-dir", "RUN", "--use_peft", "false", "--merge"])


def load_script(relative: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(relative.replace("/", "_")[:-3], REPO / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paper_run_configs_are_in_sync_and_parse():
    generator = load_script("task_configs/sft/generate_paper_runs.py")
    assert generator.main(["--check"]) == 0
    paths = sorted((REPO / "task_configs" / "sft" / "paper").glob("*/*.yaml"))
    assert len(paths) == 2 * 3 * 4
    for path in paths:
        config = parse_config(["--config", str(path)])
        model, (dataset, variant) = path.parent.name, path.stem.split("-", 1)
        assert (config.data.dataset, config.data.variant) == (dataset, variant)
        assert config.train.output_dir == f"runs/paper/{model}/{dataset}-{variant}"
        assert (config.method, config.train.completion_only_loss, config.data.instruction) == ("qlora", False, False)
        assert config.data.system_prompt.startswith("You are Llama" if "llama" in model else "You are Qwen")
        assert config.train.warmup_steps == (0.1 if dataset == "cotemp" and variant != "answer" else 0.03)
        assert (config.model.lora_r, config.model.lora_alpha, config.train.learning_rate) == (16, 32, 2e-4)


def test_matrix_dry_run_prints_the_training_commands(capsys):
    matrix = load_script("task_configs/run_paper_matrix.py")
    assert matrix.main(["--models", "qwen3-1.7b", "--datasets", "cotemp", "--variants", "correct", "answer",
                        "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("tracekd_ext.cli train --config") == 2 and "qwen3-1.7b/cotemp-correct.yaml" in out


def test_report_to_a_missing_logger_is_a_clear_error(monkeypatch):
    import importlib.util

    from tracekd_train.trainer import report_to_targets

    assert report_to_targets(["none"]) == ["none"]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(TracekdError, match="--report-to tensorboard needs the 'tensorboard' package"):
        report_to_targets(["tensorboard"])
    with pytest.raises(TracekdError, match="--report-to wandb needs the 'wandb' package"):
        report_to_targets(["wandb"])
