"""lm-eval task folders of tracekd (YAML + utils + README). Pass this folder to ``--include_path``."""

from pathlib import Path

TASKS_DIR = Path(__file__).resolve().parent
