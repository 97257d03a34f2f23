"""Sampling the memory renewal process of one batch (an operating time), vectorised over delivered states.

:func:`sample_deliveries` runs the event kernel (:func:`qrate.memory._kernels.deliveries`), whose cost
grows with the links' successes, not with the attempts. A batch starts with empty memories and drops
the cycle still open at its end (a bias of order E[T]/attempts in the rate, < 1e-4 for the batches
qrate runs).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qrate.memory import _kernels

CHUNK = 1 << 20
"""Deliveries the kernel returns per call (bounds memory)."""


def sample_deliveries(
    rng: np.random.Generator,
    p_links: Sequence[float],
    cutoffs: Sequence[int],
    p_trigger: float,
    attempts: int,
    p_keep: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Delivery attempts (D,) and storage attempts (D, N) of the deliveries kept (each with ``p_keep``) in
    ``attempts`` attempts, and the number of deliveries, kept or not.

    ``cutoffs[i]``: attempts link i's success is held at most (use ``attempts`` or more for "no cutoff").
    """
    p = np.asarray(p_links, dtype=np.float64)
    if p.size == 0:
        raise ValueError("need at least one stored link")
    if np.any(p <= 0.0) or p_trigger <= 0.0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, p.size), dtype=np.int64), 0
    m = np.minimum(np.asarray(cutoffs, dtype=np.int64), max(int(attempts), 0))
    state = np.full(p.size + 2, -1, dtype=np.int64)
    state[-1] = 0
    times, stored = [], []
    done = 0
    while not done:
        t, s, done = _kernels.deliveries(rng, p, m, float(p_trigger), float(p_keep), int(attempts), CHUNK, state)
        times.append(t)
        stored.append(s)
    if len(times) == 1:
        return times[0], stored[0], int(state[-1])
    return np.concatenate(times), np.concatenate(stored), int(state[-1])


def sample_multimode(
    rng: np.random.Generator,
    p_links: Sequence[float],
    modes: Sequence[int],
    cutoffs: Sequence[int],
    p_trigger: float,
    attempts: int,
    p_keep: float = 1.0,
) -> tuple[np.ndarray, int]:
    """Storage attempts (D, N) of the deliveries kept with parallel memory modes (first-in, first-out pairing)
    and the number of deliveries, kept or not (:func:`qrate.memory._kernels.multimode_deliveries`)."""
    p = np.asarray(p_links, dtype=np.float64)
    if np.any(p <= 0.0) or p_trigger <= 0.0 or attempts <= 0:
        return np.zeros((0, p.size), dtype=np.int64), 0
    m = np.minimum(np.asarray(cutoffs, dtype=np.int64), int(attempts))
    stored, delivered = _kernels.multimode_deliveries(
        rng, p, np.asarray(modes, dtype=np.int64), m, float(p_trigger), float(p_keep), int(attempts), 1024
    )
    return stored, int(delivered)
