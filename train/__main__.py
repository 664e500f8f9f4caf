"""``python -m tracekd_train`` / ``accelerate launch -m tracekd_train``: the same options as ``tracekd train``."""

import sys

from tracekd_ext.data_parallel import note_single_process, use_cpu_processes
from tracekd_train.cli import main

use_cpu_processes()  # launched processes without a GPU: one gloo group on the CPU, not one run each
note_single_process("python -m tracekd_train")

sys.exit(main(prog="python -m tracekd_train"))
