"""Per-item random generators derived from a stable hash (never Python's ``hash()``).

Every random decision in videossr draws from a ``numpy.random.Generator`` built here from the
run seed and the item's identity, so the same inputs give the same output in any process, on
any machine, in any order of work.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stable_seed(*parts: object) -> int:
    """A 64-bit integer that depends only on ``parts`` (their ``str`` forms, in order)."""
    text = "\x1f".join(str(part) for part in parts)
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def rng_for(*parts: object) -> np.random.Generator:
    """A fresh generator seeded from ``parts``; e.g. ``rng_for(seed, video_id, task, variant, index)``."""
    return np.random.default_rng(stable_seed(*parts))
