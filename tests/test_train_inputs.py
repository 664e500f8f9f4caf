"""Issue 18 item 4, training side: options that used to pass ``--dry_run`` and crash at training are refused
by the dry run and before a run writes anything (LoRA targets and the attention kernel against the model's
own skeleton); a single LoRA target name is a list of one; YAML values of the wrong type name the file and
key; ``trl sft``'s ``--dataset_name`` points to ``--dataset``; ``--resume`` with a corrupt ``run_start.json``
or a checkpoint cut off mid-save."""

from __future__ import annotations

import json

import pytest
from cli_helpers import one_line_error, run_cli
from train_helpers import data_dir, tiny_model

from tracekd_ext.errors import DataError, TracekdError
from tracekd_train.config import parse_config
from tracekd_train.trainer import check_output_dir, checkpoint_problem


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("tiny_inputs"), problems=20)


def train_args(model_dir, out, *extra) -> list:
    return ["train", "--model_name_or_path", model_dir, "--output-dir", out, "--data-dir", data_dir(), "--limit", "2",
            "--max-steps", "1", "--max-length", "2048", *extra]


TRAINING_CRASHES = [
    (["--model_init_kwargs", "notjson"],
     "--model_init_kwargs: expected a JSON object (Expecting value), got 'notjson'"),
    (["--adam_beta1", "2"], "--adam-beta1: expected a number in [0, 1), got 2.0"),
    (["--attn_implementation", "bogus"], '--attn_implementation bogus: Specified `attn_implementation="bogus"` is '
                                         "not supported"),
    (["--dataloader_num_workers", "-1"], "--dataloader-num-workers: expected an integer of at least 0, got -1"),
    (["--lora_target_modules", "nonexist_proj", "other_proj"],
     "--lora_target_modules: Target modules {"),  # PEFT prints a set: its order varies from run to run
]


@pytest.mark.parametrize(("options", "message"), TRAINING_CRASHES, ids=[o[0] for o, _ in TRAINING_CRASHES])
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry_run", "run"])
def test_options_that_crashed_at_training_are_refused_before_anything_is_written(capsys, tmp_path, model_dir,
                                                                                  options, message, dry_run):
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, *train_args(model_dir, out, *options, *(["--dry_run"] if dry_run else [])))
    line = one_line_error(err)
    assert code == 2 and line.startswith(f"tracekd train: error: {message}"), line
    assert all(f"'{name}'" in line for name in options[1:] if name.endswith("_proj")), line
    assert not out.exists()


def test_a_single_lora_target_name_is_a_list_of_one_and_a_regex_that_matches_nothing_says_so(capsys, tmp_path,
                                                                                             model_dir):
    argv = train_args(model_dir, tmp_path / "run", "--lora_target_modules", "q_proj")[1:]
    config = parse_config([str(a) for a in argv])
    assert config.model.lora_target_modules == ["q_proj"]  # TRL would pass a single name on as a regex
    for good in (["q_proj"], [".*\\.q_proj$"], ["q_proj", "v_proj"], ["all-linear"]):
        assert run_cli(capsys, *train_args(model_dir, tmp_path / "run", "--lora_target_modules", *good,
                                           "--dry_run"))[0] == 0, good
    code, _, err = run_cli(capsys, *train_args(model_dir, tmp_path / "run", "--lora_target_modules", ".*\\.qq_proj$",
                                               "--dry_run"))
    line = one_line_error(err)
    assert code == 2 and "its linear layers: down_proj, gate_proj, k_proj" in line
    assert "a single name on as a regular expression over whole module names" in line


@pytest.mark.parametrize(("text", "message"), [
    ("report_to: 5\n", "field 'report_to': expected a string, got int 5"),
    ("lora_target_modules: [q_proj, 5]\n", "field 'lora_target_modules': expected a string, got int 5"),
    ("learning_rate:\n", "field 'learning_rate': expected a value, got null"),
], ids=["report_to-5", "targets-5", "learning_rate-null"])
def test_yaml_values_of_the_wrong_type_name_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(DataError) as err:
        parse_config(["--config", str(path)])
    assert str(err.value).startswith(f"{path}: {message}"), err.value


def test_yaml_null_is_kept_where_the_option_takes_none(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("model_name_or_path: m\noutput_dir: o\ndata_seed:\nmax_steps: 3\n")
    config = parse_config(["--config", str(path)])
    assert (config.train.data_seed, config.train.max_steps) == (None, 3)


def test_trl_sfts_dataset_name_points_to_dataset(capsys):
    code, _, err = run_cli(capsys, "train", "--model_name_or_path", "m", "--dataset_name", "trl-lib/Capybara",
                           "--dry_run")
    assert code == 2 and one_line_error(err).startswith(
        "tracekd train: error: unknown option --dataset_name: trl sft's hub-dataset option; use --dataset (one of "
        "cotemp, babi")
    with pytest.raises(TracekdError, match="unknown option --learning_rat; did you mean --learning_rate"):
        parse_config(["--model_name_or_path", "m", "--dry_run", "--learning_rat", "1"])


# --- resuming --------------------------------------------------------------------------------------------------
def fake_checkpoint(folder, step: int, *, state: bool = True, weights: bytes | None = None):
    """A checkpoint folder as the Trainer leaves it: ``trainer_state.json`` last, and the weights."""
    folder.mkdir(parents=True)
    header = json.dumps({"__metadata__": {}}).encode()
    (folder / "adapter_model.safetensors").write_bytes(
        weights if weights is not None else len(header).to_bytes(8, "little") + header)
    if state:
        (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return folder


def test_resume_skips_a_checkpoint_cut_off_mid_save_and_names_it(tmp_path, capsys):
    out = tmp_path / "run"
    fake_checkpoint(out / "checkpoint-5", 5)
    fake_checkpoint(out / "checkpoint-10", 10, state=False)
    config = parse_config(["--model_name_or_path", "m", "--output-dir", str(out), "--resume"])
    assert check_output_dir(config) == out / "checkpoint-5"
    assert ("note: skipping checkpoint-10: no trainer_state.json (the save was cut off); resuming from "
            "checkpoint-5") in capsys.readouterr().out
    (out / "checkpoint-5" / "adapter_model.safetensors").write_bytes(b"\x00\x10\x00\x00\x00\x00\x00\x00{")
    assert checkpoint_problem(out / "checkpoint-5") == "adapter_model.safetensors is cut short"
    with pytest.raises(TracekdError, match=r"--resume: no complete checkpoint in .*run \(checkpoint-10: no "
                                           r"trainer_state.json \(the save was cut off\); checkpoint-5: "
                                           r"adapter_model.safetensors is cut short\)"):
        check_output_dir(config)
    chosen = parse_config(["--model_name_or_path", "m", "--output-dir", str(out), "--resume_from_checkpoint",
                           str(out / "checkpoint-10")])
    with pytest.raises(TracekdError, match="checkpoint-10: incomplete checkpoint: no trainer_state.json"):
        check_output_dir(chosen)


@pytest.mark.parametrize("content", ["{corrupt", "[1]"])
def test_resume_with_a_corrupt_run_start_is_one_line_and_writes_nothing(tmp_path, capsys, model_dir, content):
    out = tmp_path / "run"
    fake_checkpoint(out / "checkpoint-1", 1)
    (out / "run_start.json").write_text(content)
    before = sorted(p.name for p in out.rglob("*"))
    code, _, err = run_cli(capsys, *train_args(model_dir, out, "--resume"))
    line = one_line_error(err)
    assert code == 2 and line.startswith(f"tracekd train: error: {out / 'run_start.json'}: "), line
    assert ("malformed JSON" if content.startswith("{") else "expected the JSON object this run was started with") \
        in line
    assert sorted(p.name for p in out.rglob("*")) == before
