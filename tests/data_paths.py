"""Where the tests find the offline data copy and the task folder of this checkout.

The data copy is ``$TRACEKD_DATA_DIR`` (the library's own variable), else ``../shared/data`` beside the
repository. Without it a test that needs it is skipped, saying where it looked; under CI (``.ci/run`` sets
``CI=true``) it fails instead, so that a missing copy can never pass as a run of skips.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tracekd_ext.data_source import DATA_DIR_ENV

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get(DATA_DIR_ENV) or REPO.parent / "shared" / "data").resolve()
TASKS = REPO / "tasks"
# The datasets the tests read, as the adapters expect them (docs/datasets.md).
DATA_FOLDERS = ("cotempqa", "babi/en", "msmarco")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_data() -> Path:
    """The offline data copy; without it the calling test is skipped (outside CI) or fails (under CI)."""
    missing = [name for name in DATA_FOLDERS if not (DATA / name).is_dir()]
    if missing:
        why = (f"offline data copy not found: no {', '.join(missing)} in {DATA} (set {DATA_DIR_ENV} to a copy; "
               "layout: docs/datasets.md)")
        if in_ci():
            pytest.fail(f"{why}; CI needs the data copy", pytrace=False)
        pytest.skip(why)
    return DATA
