"""Random streams: every batch's generators derive from (root seed, sweep point, batch index).

The only place where qrate creates RNG state. A batch's streams do not depend on the order in
which batches run, on the number of workers, or on which other points are in the sweep, because
the sweep point enters through a content hash of its parameters (``point_key``), not its position.
Stim's own seeding is reproducible for the same stim version, SIMD width and shot count only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

MAX_SEED = 2**128 - 1
"""Largest root seed (``sampling.seed``, ``--seed``, a ``numpy.random.SeedSequence`` entropy)."""
MAX_STIM_SEED = 2**63 - 1
"""Largest seed handed to stim."""


def fresh_root_seed() -> int:
    """A new 128-bit root seed from system entropy (numpy's recommended practice)."""
    return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]


def point_key(params: Mapping[str, Any]) -> int:
    """A 128-bit integer identifying a sweep point by the content of its parameters.

    Args:
        params: JSON-able mapping of everything that changes the sampled distribution at the point
            (physics, protocol, hardware and the point's ground distance; not the seed or batch sizes).
    """
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:16], "big")


def batch_seed_sequence(root_seed: int, point: int, batch_index: int) -> np.random.SeedSequence:
    """The SeedSequence of batch ``batch_index`` of sweep point ``point`` under ``root_seed``."""
    if root_seed < 0 or point < 0 or batch_index < 0:
        raise ValueError(f"seed components must be >= 0, got {(root_seed, point, batch_index)}")
    return np.random.SeedSequence(root_seed, spawn_key=(point, batch_index))


def batch_streams(root_seed: int, point: int, batch_index: int) -> tuple[np.random.Generator, int]:
    """``(channel generator, stim seed)`` for one batch: independent child streams of its SeedSequence."""
    if root_seed < 0 or point < 0 or batch_index < 0:
        raise ValueError(f"seed components must be >= 0, got {(root_seed, point, batch_index)}")
    # the two children of batch_seed_sequence(...).spawn(2), built directly (same entropy and
    # spawn keys, hence the same streams, without the parent and its spawn bookkeeping)
    channel = np.random.SeedSequence(root_seed, spawn_key=(point, batch_index, 0))
    stim_stream = np.random.SeedSequence(root_seed, spawn_key=(point, batch_index, 1))
    stim_seed = int(stim_stream.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))  # stim wants < 2**63
    return np.random.Generator(np.random.PCG64(channel)), stim_seed
