"""Where the tests find the offline data copy and the task folder of this checkout."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TRACEKD_TEST_DATA_DIR", REPO.parent / "shared" / "data")).resolve()
TASKS = REPO / "tasks"
