"""Stable hash splits: an item's side (sampled or not) depends only on its stable key, never on which
other items a copy of the data holds.

Each item gets a number in [0, 1) from SHA-256 of ``seed``, its stratum and its key; it is sampled when
that number is below the stratum's rate. A partial local copy and the complete public data therefore
put every item they share on the same side, and every user scores the same items. The expected sample
size is ``rate * N`` per stratum (binomial, so the realised count varies by about ``sqrt(rate * N)``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

SPLIT_SEED = 42
LOG = logging.getLogger("tracekd")


def unit_number(key: str, stratum: str, seed: int = SPLIT_SEED) -> float:
    """A uniform number in [0, 1) determined by ``seed``, ``stratum`` and ``key`` alone."""
    digest = hashlib.sha256(f"{seed}\x1f{stratum}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def in_sample(key: str, stratum: str, rate: float, seed: int = SPLIT_SEED) -> bool:
    """Whether the item ``key`` of ``stratum`` falls in a sample drawn at ``rate``."""
    return unit_number(key, stratum, seed) < rate


def id_list_checksum(ids: Iterable[str]) -> str:
    """SHA-256 (hex) of the sorted ids joined by newlines: compares two copies' test sets at a glance."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def report_missing(dataset: str, split: str, details: list[str]) -> None:
    """Log one warning line naming what the local copy lacks of ``split`` compared with the public data."""
    if details:
        LOG.warning("%s %s split: the local copy is partial: %s", dataset, split, "; ".join(details))
