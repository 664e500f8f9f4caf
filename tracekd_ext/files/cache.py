"""The user cache folder (``cache_root``: downloads, the MS MARCO cache, the converted default model) and
downloading a public file once into it, with a progress bar and a SHA-256 check."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path

from tracekd_ext.errors import TracekdError

CACHE_ENV = "TRACEKD_CACHE_DIR"
_CHUNK = 1 << 20


def cache_root() -> Path:
    """``$TRACEKD_CACHE_DIR``, else ``$XDG_CACHE_HOME/tracekd``, else ``~/.cache/tracekd``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "tracekd"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached_download(url: str, relative: str, sha256: str) -> Path:
    """The cached copy of ``url`` at ``cache_root()/relative``, downloaded first if it is missing or its
    checksum differs. A download that does not match ``sha256`` is discarded with a one-line error."""
    target = cache_root() / relative
    if target.is_file() and sha256_of(target) == sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            _fetch(url, out)
        got = sha256_of(Path(tmp))
        if got != sha256:
            raise TracekdError(f"download of {url} has SHA-256 {got}, expected {sha256}; not cached")
        os.replace(tmp, target)
    except OSError as err:
        raise TracekdError(f"cannot download {url}: {err}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def _fetch(url: str, out) -> None:
    from tqdm import tqdm

    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - fixed public https/http URL
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=Path(url).name) as bar:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                bar.update(len(chunk))
