"""Every file a tracekd command writes goes through ``Outputs``: all of a command's files appear together
or not at all, and no file is ever half-written, replaced through a planted link or mistaken for an input.

- A regular target (or a new one) is staged as a temporary file made by ``tempfile`` in the target's own
  folder (an unpredictable name, created exclusively, so never through a symlink) and renamed over the
  target when the command has succeeded. A new file gets mode 0666 minus the umask, as ``>`` in a shell
  gives it; an existing file keeps its mode.
- A symlink to a regular file is written through: the file it points to is replaced atomically, and the
  link stays a link. A symlink to nothing is refused (it would create a file wherever the link points).
- A character device or a FIFO (``/dev/null``, ``/dev/stdout``, a named pipe) is never replaced: it is
  opened and written directly, after every other file is staged and before any is renamed, so a failed
  write (``/dev/full``) still leaves no other output behind. Anything else that is not a regular file
  (a folder, a block device, a socket) is refused.
- ``-`` is standard output, written directly like a FIFO (an output folder cannot be ``-``).
- A path that is also an input of the command, or another of its outputs, is refused before any work.
- While an ``Outputs`` is open, SIGTERM (``timeout``, a scheduler's kill) is raised as ``SystemExit(143)``
  in the main thread, so the staged temporary files are removed as they are on Ctrl-C.

Failures to create, write or rename an output raise ``OutputError`` (one line, naming the file).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from tracekd_ext.errors import OutputError
from tracekd_ext.json_safe import json_safe

PathLike = str | os.PathLike


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


STDOUT = "-"


def is_stdout(path: PathLike) -> bool:
    """Whether an output path is ``-``, standard output."""
    return os.fspath(path) == STDOUT


def identity(path: PathLike) -> tuple:
    """What makes two paths the same file: device and inode for an existing file (hard links and
    symlinks included), else the fully resolved path."""
    if is_stdout(path):
        return ("stdout",)
    try:
        info = os.stat(path)
        return ("inode", info.st_dev, info.st_ino)
    except OSError:
        return ("path", os.path.realpath(path))


@dataclass
class _Target:
    """One claimed output: where it goes, and its staged temporary file (``None`` for a direct write)."""

    path: Path
    destination: Path
    temp: Path | None
    mode: int
    data: bytes | None = None
    written: bool = False


class Outputs:
    """The output files of one command, committed together.

    ``claim`` checks and reserves paths before the work (so a bad ``--output`` fails at once), ``write``
    stages content, and leaving the ``with`` block commits every staged file (or, on an exception, removes
    the temporary files and the folders it created, leaving earlier files untouched).
    """

    def __init__(self, inputs: Iterable[PathLike | None] = ()):
        self._inputs = {identity(p): Path(p) for p in inputs if p is not None and os.path.exists(p)}
        self._targets: dict[tuple, _Target] = {}
        self._created: list[Path] = []
        self._sigterm = None

    def __enter__(self) -> Outputs:
        self._sigterm = _raise_on_sigterm()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            if kind is None:
                self.commit()
            else:
                self.discard()
        finally:
            if self._sigterm is not None:
                signal.signal(signal.SIGTERM, self._sigterm)

    def folder(self, path: PathLike) -> Path:
        """An output folder, created (with its parents) if needed; a file in its place is an error."""
        if is_stdout(path):
            raise OutputError("-: standard output cannot hold a folder of files; give a folder name")
        path = Path(path)
        missing = []
        for parent in (path, *path.parents):
            if os.path.lexists(parent):
                break
            missing.append(parent)
        if os.path.lexists(path) and not path.is_dir():
            raise OutputError(f"{path}: not a folder (an output folder is needed here)")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(f"{path}: cannot create the output folder ({_reason(err)})") from None
        self._created += missing
        return path

    def claim(self, *paths: PathLike | None) -> None:
        """Reserve output files (``None`` is skipped): check each one and stage an empty temporary file."""
        for path in paths:
            if path is not None:
                self._claim(Path(path))

    def _claim(self, path: Path) -> _Target:
        key = identity(path)
        if key in self._targets:
            raise OutputError(f"{path}: the same file as the output {self._targets[key].path}; give each output "
                              "its own file")
        if key in self._inputs:
            raise OutputError(f"{path}: the same file as the input {self._inputs[key]}; writing it would destroy "
                              "the input")
        target = self._stage(path)
        self._targets[key] = target
        return target

    def _stage(self, path: Path) -> _Target:
        if is_stdout(path):
            return _Target(path, path, None, 0)
        try:
            info = os.stat(path)  # follows symlinks
        except FileNotFoundError:
            if os.path.islink(path):
                raise OutputError(f"{path}: a symbolic link to a missing file; not written through") from None
            info = None
        except OSError as err:
            raise OutputError(f"{path}: cannot write ({_reason(err)})") from None
        if info is not None and not stat.S_ISREG(info.st_mode):
            if stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode):
                return _Target(path, path, None, 0)
            what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise OutputError(f"{path}: {what}; give a file name for this output")
        destination = Path(os.path.realpath(path))
        mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
        self.folder(destination.parent)
        try:
            fd, temp = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".tmp")
        except OSError as err:
            raise OutputError(f"{path}: cannot write ({_reason(err)})") from None
        os.close(fd)
        return _Target(path, destination, Path(temp), mode)

    def write(self, path: PathLike, data: str | bytes) -> Path:
        """Stage ``data`` (text is written as UTF-8) for ``path``, claiming it if needed; returns ``path``."""
        path = Path(path)
        target = next((t for t in self._targets.values() if t.path == path), None) or self._claim(path)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        target.written = True
        if target.temp is None:
            target.data = payload
            return target.path
        try:
            with open(target.temp, "wb") as handle:
                handle.write(payload)
            os.chmod(target.temp, target.mode)
        except OSError as err:
            raise OutputError(f"{target.path}: cannot write ({_reason(err)})") from None
        return target.path

    def commit(self) -> None:
        """Write the direct targets, then rename every staged file into place; on failure nothing is kept."""
        try:
            unwritten = [t.path for t in self._targets.values() if not t.written]
            if unwritten:  # a claimed output that was never written is a bug in the command
                raise RuntimeError(f"outputs claimed but not written: {', '.join(map(str, unwritten))}")
            for target in self._targets.values():
                if target.temp is None:
                    self._write_direct(target)
        except BaseException:
            self.discard()
            raise
        for target in self._targets.values():
            if target.temp is not None:
                try:
                    os.replace(target.temp, target.destination)
                except OSError as err:
                    self.discard()
                    raise OutputError(f"{target.path}: cannot write ({_reason(err)})") from None
                target.temp = None
        self._targets.clear()
        self._created.clear()

    @staticmethod
    def _write_direct(target: _Target) -> None:
        try:
            if is_stdout(target.path):
                sys.stdout.flush()
                sys.stdout.buffer.write(target.data)
                sys.stdout.buffer.flush()
                return
            with open(target.path, "wb") as handle:
                handle.write(target.data)
        except OSError as err:
            if err.errno == errno.EPIPE:
                raise
            raise OutputError(f"{target.path}: cannot write ({_reason(err)})") from None

    def discard(self) -> None:
        """Remove every staged temporary file and the folders created for them (when left empty)."""
        for target in self._targets.values():
            if target.temp is not None:
                target.temp.unlink(missing_ok=True)
        self._targets.clear()
        for folder in self._created:  # deepest first
            try:
                folder.rmdir()
            except OSError:
                pass
        self._created.clear()


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _raise_on_sigterm():
    """Turn SIGTERM into ``SystemExit`` (so ``with`` blocks clean up) while the default action holds in the
    main thread; returns the handler to restore, or ``None`` when nothing was changed."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None
    signal.signal(signal.SIGTERM, _terminated)
    return signal.SIG_DFL


def write_file(path: PathLike, data: str | bytes, *, inputs: Iterable[PathLike | None] = ()) -> Path:
    """Write one output file the safe way (see the module docstring)."""
    with Outputs(inputs) as outputs:
        return outputs.write(path, data)


def jsonl_text(rows: Iterable[dict[str, Any]]) -> str:
    """JSON lines as tracekd writes them: one object per line, UTF-8 characters kept, strict JSON (NaN and
    infinities as null)."""
    return "".join(json.dumps(json_safe(row), ensure_ascii=False, allow_nan=False) + "\n" for row in rows)


def json_text(obj: Any) -> str:
    """A JSON document as tracekd writes it: indented, UTF-8 characters kept, strict JSON (NaN and infinities
    as null)."""
    return json.dumps(json_safe(obj), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def write_jsonl(path: PathLike, rows: Iterable[dict[str, Any]]) -> Path:
    """Write ``rows`` as one JSON-lines output file (:func:`write_file`)."""
    return write_file(path, jsonl_text(rows))


def write_json(path: PathLike, obj: Any) -> Path:
    """Write ``obj`` as one JSON output file (:func:`write_file`)."""
    return write_file(path, json_text(obj))
