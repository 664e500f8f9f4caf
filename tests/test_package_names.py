"""tracekd installs only its own top-level names: a user's ``train.py`` never meets tracekd's training module."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

TOP_LEVEL = {"tracekd_ext", "tracekd_tasks", "tracekd_train"}


def run_python(cwd, *args):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_installed_top_level_packages_are_tracekd_names():
    provided = {name for name, dists in importlib.metadata.packages_distributions().items() if "tracekd" in dists}
    assert provided == TOP_LEVEL


def test_python_m_tracekd_train_beside_a_users_train_py(tmp_path):
    (tmp_path / "train.py").write_text('print("the user\'s own train.py")\n')
    ours = run_python(tmp_path, "-m", "tracekd_train", "--help")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.startswith("usage: python -m tracekd_train") and "--variant" in ours.stdout
    assert "the user's own train.py" not in ours.stdout
    theirs = run_python(tmp_path, "-m", "train")  # the user's name is theirs again
    assert theirs.stdout == "the user's own train.py\n"


def test_tracekd_provides_no_train_module(tmp_path):
    found = run_python(tmp_path, "-c", "import importlib.util; print(importlib.util.find_spec('train'))")
    assert found.stdout == "None\n", found.stderr
