"""Random streams: every batch's generator derives from (root seed, sweep point, batch index).

The only place where qrate creates RNG state. A batch's streams do not depend on the order in
which batches run, on the number of workers, or on which other points are in the sweep, because
the sweep point enters through a content hash of its parameters (``point_key``), not its position.
Since MODEL_VERSION 4 a batch has one generator (:class:`BatchStreams`, a Philox stream keyed per
point, positioned by the batch index); stim's own seeding (drawn from it) is reproducible for the same stim version, SIMD width and shot count only.
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
    return key_of_text(json.dumps(params, sort_keys=True, separators=(",", ":"), default=str))


def key_of_text(text: str) -> int:
    """The point key of a key's canonical JSON text (what :func:`point_key` hashes; a planner that
    builds the text itself, a part at a time, hashes it here)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:16], "big")


def point_stream_key(root_seed: int, point: int) -> np.ndarray:
    """The 128-bit Philox key of sweep point ``point`` under ``root_seed`` (two uint64 words).

    Derived by ``SeedSequence(root_seed, spawn_key=(point,))`` (numpy's hashing of the entropy and
    the spawn key), so two points or two root seeds get unrelated keys.
    """
    if root_seed < 0 or point < 0:
        raise ValueError(f"seed components must be >= 0, got {(root_seed, point)}")
    return np.random.SeedSequence(root_seed, spawn_key=(point,)).generate_state(2, dtype=np.uint64)


class BatchStreams:
    """The generators of the batches of one sweep point (one Philox bit generator, re-positioned per batch).

    Batch ``b`` of the point is the Philox stream of the point's key (:func:`point_stream_key`) from
    counter ``b * 2**192`` (the top 64-bit word of Philox's 256-bit counter is the batch index): a
    counter-based generator keyed once per point (Salmon et al., SC'11, "Parallel random numbers: as
    easy as 1, 2, 3"; numpy's ``Philox``). Batches own disjoint counter ranges of 2**192 blocks, so
    their streams never overlap, and batch ``b``'s numbers depend on ``(root_seed, point, b)`` only,
    whatever order or grouping runs the batches. Everything a batch draws (heralding, transmittance
    moments, protocol counters, stim seeds where stim samples shots) comes from its one generator.
    """

    __slots__ = ("_bits", "_key", "generator")

    def __init__(self, root_seed: int, point: int) -> None:
        self._key = _point_key_cached(root_seed, point)
        self._bits = np.random.Philox(key=self._key, counter=np.zeros(4, dtype=np.uint64))
        self.generator = np.random.Generator(self._bits)

    def at(self, batch_index: int) -> np.random.Generator:
        """The generator of batch ``batch_index``, positioned at the start of its stream.

        The same :class:`numpy.random.Generator` object is returned for every batch (re-positioned):
        use it before asking for the next batch's.
        """
        if batch_index < 0:
            raise ValueError(f"batch index must be >= 0, got {batch_index}")
        self._bits.state = {
            "bit_generator": "Philox",
            "state": {"counter": np.array((0, 0, 0, batch_index), dtype=np.uint64), "key": self._key},
            "buffer": np.zeros(4, dtype=np.uint64),
            "buffer_pos": 4,
            "has_uint32": 0,
            "uinteger": 0,
        }
        return self.generator


_KEYS: dict[tuple[int, int], np.ndarray] = {}
_KEYS_MAX = 4096


def _point_key_cached(root_seed: int, point: int) -> np.ndarray:
    """:func:`point_stream_key`, remembered for the latest few thousand (root seed, point) pairs."""
    found = _KEYS.get((root_seed, point))
    if found is None:
        if len(_KEYS) >= _KEYS_MAX:
            _KEYS.clear()
        found = _KEYS[(root_seed, point)] = point_stream_key(root_seed, point)
        found.setflags(write=False)
    return found


def batch_generator(root_seed: int, point: int, batch_index: int) -> np.random.Generator:
    """A fresh generator of batch ``batch_index`` of sweep point ``point`` (:class:`BatchStreams`)."""
    if root_seed < 0 or point < 0 or batch_index < 0:
        raise ValueError(f"seed components must be >= 0, got {(root_seed, point, batch_index)}")
    return BatchStreams(root_seed, point).at(batch_index)
