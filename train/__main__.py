"""``python -m tracekd_train`` / ``accelerate launch -m tracekd_train``: the same options as ``tracekd train``."""

import sys

from tracekd_ext.data_parallel import note_single_process
from tracekd_train.cli import main

note_single_process("python -m tracekd_train")

sys.exit(main(prog="python -m tracekd_train"))
