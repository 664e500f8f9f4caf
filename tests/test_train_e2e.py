"""End to end on CPU with a tiny random Llama: ``tracekd train`` (LoRA, 20 steps on one repeated batch), then
``tracekd eval`` with ``peft=``; resuming an interrupted run; loss masking; merging the adapter."""

from __future__ import annotations

import json
import math

import pytest
from data_paths import REPO
from train_helpers import data_dir, smoke_args, tiny_model

from tracekd_ext.cli import main
from tracekd_train.config import parse_config
from tracekd_train.trainer import build_trainer, merge_adapter, prepare, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: one thread avoids oversubscribing a shared CPU (several times faster here)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("tiny_llama"))


@pytest.fixture(scope="module")
def finished_run(model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "lora"
    assert main(["train", *smoke_args(model_dir, out)]) == 0
    return out


def read_card(run_dir):
    return json.loads((run_dir / "run.json").read_text(encoding="utf-8"))


def test_train_lowers_the_loss_and_writes_adapter_tokenizer_and_card(finished_run):
    card = read_card(finished_run)
    training = card["training"]
    assert training["global_step"] == 20 and len(training["loss_history"]) == 20
    assert all(math.isfinite(loss) for _, loss in training["loss_history"])
    assert training["final_loss"] < training["first_loss"]
    assert training["tokens_seen"] > 0 and training["tokens_per_second"] > 0
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "sft_train.jsonl"):
        assert (finished_run / name).is_file()
    assert card["sizes"]["train_examples"] == 4 and card["sizes"]["parameters"]["trainable"] > 0
    assert card["tokens"]["over_max_length"] == 0 and len(card["data_sha256"]) == 64
    assert card["versions"]["trl"] and card["versions"]["peft"] and card["device"]["type"] in ("cpu", "cuda")
    assert card["eval"]["command"].startswith("tracekd eval --model hf --model_args pretrained=")


@pytest.fixture(scope="module")
def evaluated_run(finished_run):
    """``tracekd eval`` of the finished run, with the command its run card records, on 4 test items."""
    argv = read_card(finished_run)["eval"]["argv"]
    assert main(["eval", *argv, "--limit", "4", "--device", "cpu", "--batch_size", "4", "--output_path",
                 str(finished_run / "eval"), "--log_samples", "--gen_kwargs", "max_gen_toks=8"]) == 0
    return finished_run


def test_eval_loads_the_adapter_with_the_trained_prompt(evaluated_run, model_dir):
    from transformers import AutoTokenizer

    from tracekd_ext.adapters import get_spec
    from tracekd_train.sft_data import BuildOptions, sft_example

    argv = read_card(evaluated_run)["eval"]["argv"]
    assert argv[argv.index("--model_args") + 1] == f"pretrained={model_dir},peft={evaluated_run}"
    out = evaluated_run / "eval"
    results = json.loads(next(out.rglob("results_*.json")).read_text(encoding="utf-8"))
    assert results["config"]["model_args"]["peft"] == str(evaluated_run)
    assert "answer_acc,none" in results["results"]["cotemp_trace"]
    samples = [json.loads(line) for line in next(out.rglob("samples_cotemp_trace_*.jsonl")).open(encoding="utf-8")]
    assert len(samples) == 4
    spec, tokenizer = get_spec("cotemp"), AutoTokenizer.from_pretrained(evaluated_run)
    test_problems = {p.id: p for p in spec.load(data_dir(), "test")}
    for sample in samples:  # what lm-eval showed the model is what training rendered for that problem
        example = sft_example(test_problems[sample["doc"]["id"]], spec, BuildOptions("correct"))
        trained = tokenizer.apply_chat_template(example["prompt"], tokenize=False, add_generation_prompt=True)
        assert sample["arguments"]["gen_args_0"]["arg_0"] == trained


def test_matrix_script_rescores_and_reports_a_finished_run(evaluated_run, tmp_path):
    import argparse
    import importlib.util

    module_spec = importlib.util.spec_from_file_location("run_paper_matrix",
                                                         REPO / "task_configs" / "run_paper_matrix.py")
    matrix = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(matrix)
    config = tmp_path / "cotemp-correct.yaml"
    config.write_text(f"output_dir: {evaluated_run}\n")
    matrix.run_one(config, argparse.Namespace(launcher=None, dry_run=False, eval_batch_size="4", eval_args="--limit 4"))
    table = matrix.report([config], tmp_path / "report").read_text(encoding="utf-8")
    assert "| cotemp-correct | strict | 4 |" in table and "| cotemp-correct | paper | 4 |" in table
    # the interventions ran on the same 4 problems (--limit 4 reaches them too) and were analysed
    forced = sorted((evaluated_run / "eval" / "interventions").rglob("samples_cotemp_intervene_*.jsonl"))
    assert len(forced) == 6 and all(len(path.read_text().splitlines()) == 4 for path in forced)
    assert (evaluated_run / "eval" / "interventions.json").is_file()


class Interrupt(Exception):
    pass


def interrupt_at(step: int):
    from transformers import TrainerCallback

    class Callback(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == step:
                raise Interrupt

    return Callback()


def test_resume_after_an_interrupted_run_finishes_the_same_run(finished_run, model_dir, tmp_path):
    from safetensors.torch import load_file

    out = tmp_path / "interrupted"
    with pytest.raises(Interrupt):
        run(parse_config(smoke_args(model_dir, out)), callbacks=[interrupt_at(12)])
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-10", "checkpoint-5"]
    assert main(["train", *smoke_args(model_dir, out)]) == 2  # a used directory needs --resume
    assert main(["train", *smoke_args(model_dir, out), "--resume"]) == 0
    card = read_card(out)
    assert card["training"]["global_step"] == 20 and card["training"]["steps_this_session"] == 10
    assert card["training"]["resumed_from"].endswith("checkpoint-10")
    assert sorted(p.name for p in out.glob("checkpoint-*")) == [f"checkpoint-{n}" for n in (10, 15, 20, 5)]
    reference, resumed = (load_file(d / "adapter_model.safetensors") for d in (finished_run, out))
    assert reference.keys() == resumed.keys()
    assert all(float((reference[k] - resumed[k]).abs().max()) < 1e-6 for k in reference)


def test_resume_past_checkpoints_cut_off_mid_save_finishes_the_same_run(finished_run, model_dir, tmp_path, capsys):
    """The last two checkpoints lost their trainer_state.json (written last by the Trainer): --resume names them
    and continues from checkpoint-10 to the same adapter as the uninterrupted run."""
    import shutil

    from safetensors.torch import load_file

    out = tmp_path / "cut"
    shutil.copytree(finished_run, out)
    (out / "run.json").unlink()
    for step in (15, 20):
        (out / f"checkpoint-{step}" / "trainer_state.json").unlink()
    assert main(["train", *smoke_args(model_dir, out), "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "note: skipping checkpoint-20: no trainer_state.json (the save was cut off); resuming from checkpoint-10" \
        in printed and "skipping checkpoint-15" in printed
    assert read_card(out)["training"]["resumed_from"].endswith("checkpoint-10")
    reference, resumed = (load_file(d / "adapter_model.safetensors") for d in (finished_run, out))
    assert all(float((reference[k] - resumed[k]).abs().max()) < 1e-6 for k in reference)


@pytest.mark.parametrize("loss", ["completion", "full"])
def test_loss_masking(model_dir, tmp_path, loss):
    only_completion = "true" if loss == "completion" else "false"
    prepared = prepare(parse_config(smoke_args(model_dir, tmp_path / loss, "--completion_only_loss", only_completion)))
    trainer = build_trainer(prepared)
    tokenizer = prepared.tokenizer
    for example, row in zip(prepared.data.examples, trainer.train_dataset, strict=True):
        prompt = tokenizer.apply_chat_template(example["prompt"], tokenize=False, add_generation_prompt=True)
        n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        ids, labels = row["input_ids"], row["labels"]
        assert ids[:n_prompt] == tokenizer(prompt, add_special_tokens=False)["input_ids"]
        assert labels[n_prompt:] == ids[n_prompt:]  # the completion is always learnt
        if loss == "completion":
            assert set(labels[:n_prompt]) == {-100}
        else:
            assert labels[:n_prompt] == ids[:n_prompt]


def test_merged_model_equals_base_plus_adapter(finished_run, model_dir):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    config = parse_config(smoke_args(model_dir, finished_run, "--merge"))
    merged_dir = merge_adapter(config, finished_run, AutoTokenizer.from_pretrained(finished_run))
    ids = torch.tensor([[5, 17, 42, 99, 7]])
    merged = AutoModelForCausalLM.from_pretrained(merged_dir).eval()
    adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model_dir), finished_run).eval()
    with torch.no_grad():
        assert torch.allclose(merged(ids).logits, adapted(ids).logits, atol=1e-5)
    assert (merged_dir / "tokenizer.json").is_file()


def test_full_fine_tuning_saves_a_whole_model_that_evaluates_as_pretrained(model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    out = tmp_path / "full"
    card = run(parse_config(smoke_args(model_dir, out, "--use_peft", "false", "--max-steps", "2")))
    assert card["outputs"] == {"adapter": None, "model": str(out), "merged": None}
    assert card["sizes"]["parameters"]["trainable"] == card["sizes"]["parameters"]["total"]
    assert f"pretrained={out}" in card["eval"]["argv"]
    assert AutoModelForCausalLM.from_pretrained(out).num_parameters() == card["sizes"]["parameters"]["total"]


def test_packing_trains_on_packed_rows(model_dir, tmp_path):
    prepared = prepare(parse_config(smoke_args(model_dir, tmp_path / "packed", "--packing", "--max-length", "1500",
                                               "--max-steps", "2")))
    trainer = build_trainer(prepared)
    rows = trainer.train_dataset
    assert len(rows) < len(prepared.data.examples) and max(len(r["seq_lengths"]) for r in rows) >= 2
    assert sum(len(r["input_ids"]) for r in rows) == prepared.tokens.total_tokens
    trainer.train()
    assert trainer.state.global_step == 2 and math.isfinite(trainer.state.log_history[-1]["train_loss"])
