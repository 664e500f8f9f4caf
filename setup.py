"""Package discovery for the wheel; everything else is in pyproject.toml.

setuptools' finder walks each source folder, so a new subpackage (or a task folder of data files) cannot be
left out of the wheel. ``packages.find`` in pyproject.toml cannot do this: it keeps folder names, and two of
tracekd's folders install under other names (pyproject.toml's ``package-dir``: tasks/ as ``tracekd_tasks``,
train/ as ``tracekd_train``, so a user's own ``train.py`` stays theirs). ``.ci/wheel-check`` installs the built
wheel and checks that every tracked file of these folders is in it.
"""

from setuptools import Extension, find_namespace_packages, setup

SOURCE_FOLDERS = {"tracekd_ext": "tracekd_ext", "tracekd_tasks": "tasks", "tracekd_train": "train"}


def packages_in(name: str, folder: str) -> list[str]:
    return [name, *(f"{name}.{sub}" for sub in find_namespace_packages(folder, exclude=["*__pycache__*"]))]


# The compiled free-form judge (tracekd_ext/free_form/match.py reads without it, slower): optional, so that a
# machine without a C compiler still installs tracekd.
JUDGE = Extension("tracekd_ext.free_form._judge", ["tracekd_ext/free_form/_judge.c"], optional=True)

setup(packages=[package for name, folder in SOURCE_FOLDERS.items() for package in packages_in(name, folder)],
      ext_modules=[JUDGE])
