"""``python -m tracekd_train`` / ``accelerate launch -m tracekd_train``: the same options as ``tracekd train``."""

import sys

from tracekd_train.cli import main

sys.exit(main(prog="python -m tracekd_train"))
