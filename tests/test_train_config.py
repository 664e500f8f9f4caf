"""``tracekd train`` takes the options of ``trl sft`` (TRL's SFTConfig and ModelConfig, flags and the keys of
TRL's one ``--config`` YAML file), only those (tracekd 0.1's spellings are unknown options), and imports neither
torch nor TRL when only its modules are imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from data_paths import REPO
from train_helpers import data_dir, tiny_model

from tracekd_ext.cli import main
from tracekd_ext.errors import DataError, TracekdError
from tracekd_train.config import parse_config


def test_trl_sft_flags_are_tracekd_train_flags():
    config = parse_config(["--model_name_or_path", "org/base", "--output_dir", "run", "--use_peft", "--lora_r", "8",
                           "--lora_alpha", "16", "--lora_target_modules", "q_proj", "v_proj", "--use_rslora",
                           "--eval_strategy", "steps", "--eval_steps", "5", "--neftune_noise_alpha", "5",
                           "--max-steps", "3", "--data_seed", "7"])
    assert (config.model.model_name_or_path, config.model.use_peft, config.method) == ("org/base", True, "lora")
    assert (config.model.lora_r, config.model.lora_alpha, config.model.use_rslora) == (8, 16, True)
    assert config.model.lora_target_modules == ["q_proj", "v_proj"]
    assert (config.train.eval_strategy.value, config.train.eval_steps) == ("steps", 5)
    assert (config.train.neftune_noise_alpha, config.train.max_steps, config.data_seed) == (5, 3, 7)


def test_a_yaml_of_trl_keys_configures_the_run_and_flags_override_it(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(textwrap.dedent("""\
        model_name_or_path: org/base
        output_dir: runs/x
        use_peft: true
        lora_r: 32
        lora_dropout: 0.1
        load_in_4bit: false
        learning_rate: 1e-4
        lr_scheduler_type: constant
        eval_strategy: epoch
        gradient_checkpointing: false
        per_device_train_batch_size: 2
        completion_only_loss: false
        report_to: none
        dataset: babi
        variant: cls
        instruction: false
    """))
    config = parse_config(["--config", str(recipe), "--lora_r", "4"])
    assert (config.model.lora_r, config.model.lora_dropout, config.method) == (4, 0.1, "lora")
    assert (config.train.learning_rate, config.train.lr_scheduler_type.value) == (1e-4, "constant")
    assert (config.train.eval_strategy.value, config.train.per_device_train_batch_size) == ("epoch", 2)
    assert config.train.activation_checkpointing is False and config.train.gradient_checkpointing is False
    assert config.train.completion_only_loss is False and config.train.report_to == []
    assert (config.data.dataset, config.data.variant, config.data.instruction) == ("babi", "cls", False)
    assert config.train.output_dir == "runs/x"
    # tracekd's recipe defaults where the YAML says nothing: every projection gets LoRA, lr warm-up 3%
    assert len(config.model.lora_target_modules) == 7 and config.train.warmup_steps == 0.03


def test_unknown_trl_flag_is_a_one_line_error_with_the_nearest_option():
    with pytest.raises(TracekdError, match="unknown option --lora_rank; did you mean --lora_r"):
        parse_config(["--model_name_or_path", "m", "--output_dir", "o", "--lora_rank", "8"])


def test_yaml_value_of_the_wrong_kind_names_the_file_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("eval_strategy: sometimes\n")
    with pytest.raises(DataError, match="field 'eval_strategy': 'sometimes' is not one of no, steps, epoch"):
        parse_config(["--config", str(path)])
    path.write_text("use_peft: 1\n")
    with pytest.raises(DataError, match="field 'use_peft': expected true or false"):
        parse_config(["--config", str(path)])


# tracekd 0.1's spellings: TRL's names only, no alias layer
OLD_FLAGS = [["--model", "org/base"], ["--method", "full"], ["--loss", "full"], ["--warmup-ratio", "0.1"],
             ["--chat-template", "t.jinja"], ["--no-packing"], ["--no-enable-thinking"]]


@pytest.mark.parametrize("old", OLD_FLAGS, ids=[o[0] for o in OLD_FLAGS])
def test_tracekd_0_1_spellings_are_unknown_options(old):
    with pytest.raises(TracekdError, match=f"^unknown option {old[0]}"):
        parse_config(["--model_name_or_path", "org/base", "--output_dir", "run", *old])


def test_a_tracekd_0_1_yaml_key_is_an_unknown_option_naming_the_file(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text("model_name_or_path: org/base\nmethod: qlora\noutput_dir: o\n")
    with pytest.raises(DataError, match=f"^{path}: unknown option 'method'"):
        parse_config(["--config", str(path)])
    path.write_text("include: base.yaml\n")
    with pytest.raises(DataError, match=f"^{path}: unknown option 'include'"):
        parse_config(["--config", str(path)])


def test_flags_beat_the_yaml_file_read_once(tmp_path, monkeypatch):
    import builtins

    path = tmp_path / "r.yaml"
    path.write_text("model_name_or_path: from/yaml\noutput_dir: o\nwarmup_steps: 0.2\nlora_r: 8\n")
    opened = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda file, *a, **k: opened.append(str(file)) or real_open(file, *a, **k))
    config = parse_config(["--config", str(path), "--model_name_or_path", "from/flag", "--warmup_steps", "0.05"])
    assert config.model.model_name_or_path == "from/flag" and config.train.warmup_steps == 0.05
    assert config.model.lora_r == 8 and opened.count(str(path)) == 1
    assert parse_config([f"--config={path}"]).model.model_name_or_path == "from/yaml"


@pytest.mark.parametrize(("argv", "message"), [
    (["--config"], "--config: expected one YAML file"),
    (["--config", "a.yaml", "b.yaml"], r"unexpected argument '.*b\.yaml'"),
    (["--config", "a.yaml", "--config", "b.yaml"], "--config: expected one YAML file"),
], ids=["no-file", "two-files", "two-configs"])
def test_config_takes_one_file(tmp_path, argv, message):
    (tmp_path / "a.yaml").write_text("model_name_or_path: m\noutput_dir: o\n")
    argv = [str(tmp_path / a) if a.endswith(".yaml") else a for a in argv]
    with pytest.raises(TracekdError, match=message):
        parse_config(argv)


def test_tracekd_train_runs_with_trl_options(tmp_path):
    """The CLI end to end (up to training): TRL flags plus a TRL-keyed YAML, a dry run that writes the data."""
    model = tiny_model(tmp_path / "model", problems=10)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"use_peft: true\nlora_r: 4\nmax_length: 4096\ndata_dir: {data_dir()}\nlimit: 2\n")
    out = tmp_path / "run"
    code = main(["train", "--config", str(recipe), "--model_name_or_path", str(model), "--output_dir", str(out),
                 "--dry_run", "--eval_strategy", "no", "--gradient_checkpointing", "false"])
    assert code == 0
    rows = [json.loads(line) for line in (out / "sft_train.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and rows[0]["completion"][0]["role"] == "assistant"


def test_importing_the_cli_and_the_light_training_modules_loads_no_torch():
    code = textwrap.dedent("""
        import sys
        import tracekd_ext.cli, tracekd_train.cli, tracekd_train.config, tracekd_train.trainer
        import tracekd_train.sft_data, tracekd_train.chat_check, tracekd_train.eval_hint, tracekd_train.run_card
        import tracekd_train.teacher
        print(sorted(m for m in ("torch", "transformers", "trl", "peft", "accelerate") if m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
