"""``python -m train`` / ``accelerate launch -m train``: the same options as ``tracekd train``."""

import sys

from train.cli import main

sys.exit(main(prog="python -m train"))
