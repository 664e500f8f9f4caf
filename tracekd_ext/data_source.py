"""Where datasets are read from: a local directory (argument, metadata or TRACEKD_DATA_DIR) or the hub."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "TRACEKD_DATA_DIR"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The explicit directory, else ``$TRACEKD_DATA_DIR``, else ``None`` (the public source online)."""
    chosen = data_dir if data_dir not in (None, "") else os.environ.get(DATA_DIR_ENV) or None
    return None if chosen is None else Path(chosen).expanduser()
