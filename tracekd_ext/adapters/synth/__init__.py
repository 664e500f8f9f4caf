"""Synthetic co-temporal QA (``synth``): CoTemp QA-style problems that no model has seen in pre-training.

Generated offline by :mod:`tracekd_ext.adapters.synth.generator`; labels, support and answers are exact. The records
carry CoTemp QA's labels and ``triple_element``, so the trace format and the answer rule are CoTemp's.
Options (also from lm-eval ``--metadata``): ``size`` problems per split, ``seed``, ``distractors`` facts per
problem, ``relation_mix`` label weights (``"equal=1,overlap=1,during=1,mix=1"``). The test and train
splits are independent streams of the same generator.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from tracekd_ext.adapters.cotemp import SPEC as COTEMP_SPEC
from tracekd_ext.adapters.synth.generator import generate, parse_relation_mix
from tracekd_ext.errors import TracekdError
from tracekd_ext.options import check, nonnegative_int, positive_int
from tracekd_ext.record import Problem

SPLITS = ("test", "train", "all")
DEFAULT_SIZE, DEFAULT_SEED, DEFAULT_DISTRACTORS = 200, 42, 6


def load(data_dir: str | Path | None = None, split: str = "test", *, size: object = DEFAULT_SIZE,
         seed: object = DEFAULT_SEED, distractors: object = DEFAULT_DISTRACTORS, relation_mix: object = None,
         **_: Any) -> list[Problem]:
    """``size`` generated problems of ``split`` (``all``: test then train); ``data_dir`` is not used."""
    if split not in SPLITS:
        raise TracekdError(f"unknown split '{split}'; choose from {', '.join(SPLITS)}")
    options = {"seed": check("synth option 'seed'", seed, nonnegative_int),
               "distractors": check("synth option 'distractors'", distractors, nonnegative_int),
               "relation_mix": parse_relation_mix(relation_mix)}
    count = check("synth option 'size'", size, positive_int)
    splits = ("test", "train") if split == "all" else (split,)
    return [p for name in splits for p in generate(name, count, **options)]


SPEC = dataclasses.replace(COTEMP_SPEC, name="synth", load=load,
                           options=("size", "seed", "distractors", "relation_mix"), from_raw=None)
