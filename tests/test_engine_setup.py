"""What ``tracekd eval`` sets up before lm-eval runs vLLM on a CPU (tracekd_ext.vllm_cpu) or a chat API
(tracekd_ext.chat_api), checked without vLLM or a server; tests/test_vllm.py runs both for real (.ci/vllm)."""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import os

import pytest

from tracekd_ext.chat_api import check_chat_api_prefix
from tracekd_ext.errors import TracekdError
from tracekd_ext.vllm_cpu import KV_CACHE_GIB, KV_CACHE_VARIABLE, VllmCpuMetadata, prepare_vllm


def run_args(**given) -> argparse.Namespace:
    return argparse.Namespace(**{"model": None, "model_args": None, "tasks": None, "gen_kwargs": None, **given})


def test_an_installed_distribution_reads_as_vllm_with_a_cpu_version():
    source = metadata.distribution("packaging")
    alias = VllmCpuMetadata(source)
    assert alias.metadata["Name"] == "vllm" and alias.version == f"{source.version}+cpu"
    assert alias.files == source.files  # the same installed files


def test_vllm_on_a_cpu_gets_kv_cache_eager_and_batch_auto_each_said(monkeypatch, capsys):
    monkeypatch.setenv("VLLM_TARGET_DEVICE", "cpu")
    monkeypatch.delenv(KV_CACHE_VARIABLE, raising=False)
    args = run_args(model="vllm", model_args={"pretrained": "m"})
    prepare_vllm(args, {})
    assert KV_CACHE_GIB[0] <= int(os.environ[KV_CACHE_VARIABLE]) <= KV_CACHE_GIB[1]
    assert args.model_args == {"pretrained": "m", "enforce_eager": True} and args.batch_size == "auto"
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 3 and all(line.startswith("tracekd eval: vLLM on CPU: ") for line in said)


def test_the_users_own_values_are_kept(monkeypatch, capsys):
    monkeypatch.setenv("VLLM_TARGET_DEVICE", "cpu")
    monkeypatch.setenv(KV_CACHE_VARIABLE, "3")
    args = run_args(model="vllm", model_args={"enforce_eager": False}, batch_size="8")
    prepare_vllm(args, {})
    assert args.model_args == {"enforce_eager": False} and args.batch_size == "8"
    assert os.environ[KV_CACHE_VARIABLE] == "3" and capsys.readouterr().err == ""
    other = run_args(model="hf", model_args={"pretrained": "m"})
    prepare_vllm(other, {})
    assert other.model_args == {"pretrained": "m"} and not hasattr(other, "batch_size")


def test_intervention_tasks_on_a_chat_api_need_the_continue_option():
    chat = {"model": "local-chat-completions", "tasks": "cotemp_trace,cotemp_synth_intervene_gold"}
    with pytest.raises(TracekdError, match="forced prefix"):
        check_chat_api_prefix(run_args(**chat), {})
    check_chat_api_prefix(run_args(**chat, gen_kwargs={"continue_final_message": True,
                                                       "add_generation_prompt": False}), {})
    check_chat_api_prefix(run_args(model="local-chat-completions", tasks="cotemp_trace"), {})
    check_chat_api_prefix(run_args(model="local-completions", tasks="cotemp_synth_intervene_gold"), {})
    with pytest.raises(TracekdError):  # the model and tasks from a --config file count too
        check_chat_api_prefix(run_args(), {"model": "openai-chat-completions", "tasks": ["trace_interventions"]})
