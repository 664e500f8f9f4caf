"""``python -m tracekd_ext ...``: the ``tracekd`` command line as a module, so launchers that start Python
modules run it: ``accelerate launch --multi_gpu --num_processes 2 -m tracekd_ext eval --model tracekd-hf ...``
evaluates data-parallel (on CPU processes too: tracekd_ext.data_parallel) with tracekd's tasks and models."""

import sys

from tracekd_ext.cli import main
from tracekd_ext.data_parallel import note_single_process, use_cpu_processes

use_cpu_processes()
note_single_process("tracekd")
sys.exit(main())
