"""A misspelled --metadata key is an error listing the task's keys; --model_args keys, which lm-eval passes to
the same hook, still work (issue 9, section 5)."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from tracekd_ext.cli import main
from tracekd_ext.errors import TracekdError
from tracekd_ext.harness.task_hooks import check_metadata_keys, load_docs, model_arg_names


def test_a_misspelled_key_lists_the_valid_keys():
    with pytest.raises(TracekdError, match=r"^cotemp_trace: unknown --metadata key 'scorng'; valid keys: data_dir, "
                                           r"split, scoring, instruction, fewshot_pool, split_rule$"):
        check_metadata_keys("cotemp_trace", ("split_rule",), {"version": 1.0, "scorng": "paper"})


def test_model_args_and_lm_eval_keys_pass():
    import lm_eval.models.huggingface  # noqa: F401  (lm-eval builds the run's model before it loads the tasks)

    assert {"pretrained", "peft", "dtype", "max_length", "trust_remote_code"} <= model_arg_names()
    check_metadata_keys("marco_trace", ("keep_no_answer", "support"),
                        {"version": 1.0, "config_source": "x", "pretrained": "m", "peft": "a", "dtype": "float32",
                         "keep_no_answer": True, "scoring": "paper"})


def test_model_arg_names_imports_no_backend():
    """Only the model classes already imported are read: lm-eval's other backends (vllm, openai, ...) stay
    unimported."""
    code = ("import sys\nfrom tracekd_ext.harness.task_hooks import model_arg_names\nmodel_arg_names()\n"
            "print(sorted(m for m in sys.modules if m.startswith('lm_eval.models')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_unrelated_unknown_key_is_logged_not_refused(caplog):
    with caplog.at_level(logging.WARNING, logger="tracekd"):
        check_metadata_keys("babi_trace", ("tasks", "all_questions"), {"attn_implementation": "sdpa"})
    assert "'attn_implementation' is neither an option of the task" in caplog.text


def test_load_docs_refuses_a_misspelled_dataset_option(data_dir):
    with pytest.raises(TracekdError, match="unknown --metadata key 'split_rul'"):
        load_docs("cotemp", "trace", data_dir=str(data_dir), split_rul="hash")
    with pytest.raises(TracekdError, match="option 'instruction': expected true or false"):
        load_docs("cotemp", "trace", data_dir=str(data_dir), instruction="maybe")


@pytest.mark.slow
def test_real_lm_eval_run_rejects_a_misspelled_key_and_accepts_model_args(tiny_model_dir, data_dir, tmp_path,
                                                                         capsys):
    """Through lm-eval's own CLI with the hf backend: model_args reach custom_dataset next to --metadata."""
    common = ["eval", "--model", "hf", "--model_args", f"pretrained={tiny_model_dir},dtype=float32",
              "--tasks", "cotemp_trace", "--limit", "1", "--device", "cpu", "--gen_kwargs", "max_gen_toks=2"]
    code = main([*common, "--metadata", f'{{"data_dir": "{data_dir}", "scorng": "paper"}}'])
    err = capsys.readouterr().err
    assert code != 0 and "unknown --metadata key 'scorng'; valid keys: data_dir, split, scoring" in err
    out = tmp_path / "out"
    assert main([*common, "--metadata", f'{{"data_dir": "{data_dir}", "scoring": "paper"}}',
                 "--output_path", str(out)]) == 0
    assert list(out.rglob("results_*.json"))
