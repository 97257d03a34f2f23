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

CHUNK = 1 << 16
"""Deliveries the kernel returns per call (bounds memory)."""


def sample_deliveries(
    rng: np.random.Generator, p_links: Sequence[float], cutoffs: Sequence[int], p_trigger: float, attempts: int
) -> tuple[np.ndarray, np.ndarray]:
    """Delivery attempts (D,) and storage attempts (D, N) of every delivery in ``attempts`` attempts.

    ``cutoffs[i]``: attempts link i's success is held at most (use ``attempts`` or more for "no cutoff").
    """
    p = np.asarray(p_links, dtype=np.float64)
    if p.size == 0:
        raise ValueError("need at least one stored link")
    if np.any(p <= 0.0) or p_trigger <= 0.0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, p.size), dtype=np.int64)
    m = np.minimum(np.asarray(cutoffs, dtype=np.int64), max(int(attempts), 0))
    state = np.full(p.size + 1, -1, dtype=np.int64)
    times, stored = [], []
    done = 0
    while not done:
        t, s, done = _kernels.deliveries(rng, p, m, float(p_trigger), int(attempts), CHUNK, state)
        times.append(t)
        stored.append(s)
    return np.concatenate(times), np.concatenate(stored)
