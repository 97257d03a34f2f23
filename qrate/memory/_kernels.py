"""Numba kernel of the memory renewal process (pure: a Generator, arrays and scalars in; arrays out)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _failures(rng: np.random.Generator, p: float) -> int:
    """Failures before the first success (Geometric(p) − 1; 0 when p = 1)."""
    if p >= 1.0:
        return 0
    return rng.geometric(p) - 1


@numba.njit(cache=True, nogil=True)
def deliveries(
    rng: np.random.Generator,
    p_links: np.ndarray,
    cutoffs: np.ndarray,
    p_trigger: float,
    p_keep: float,
    attempts: int,
    capacity: int,
    state: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Deliveries of N stored links and a memoryless trigger over ``attempts`` attempts, event by event.

    Link i succeeds per attempt with ``p_links[i]``; its success is held ``cutoffs[i]`` attempts at most,
    then discarded, and the link attempts again from the next attempt. A delivery happens at the first
    attempt at which every link holds a success and the trigger (everything that must coincide with
    the delivery without a memory) succeeds. After a delivery every link starts afresh. A delivery is
    returned with probability ``p_keep`` (the final step's success, drawn here so that failed
    deliveries cost no memory).

    Cost grows with the links' successes, never with the attempts (geometric jumps).

    ``state`` (length N + 2): the links' pending success attempts, a start flag (``state[N] < 0`` starts
    empty at attempt 0) and the count of every delivery, kept or not. It is updated in place so that a
    call that fills ``capacity`` resumes.

    Returns:
        (delivery attempts (D,), storage attempts (D, N): delivery attempt − each link's success attempt,
        1 if the batch is finished else 0).
    """
    n = p_links.size
    a = state[:n]
    if state[n] < 0:
        for i in range(n):
            a[i] = _failures(rng, p_links[i])
        state[n] = 0
    at = np.empty(capacity, dtype=np.int64)
    stored = np.empty((capacity, n), dtype=np.int64)
    d = 0
    while d < capacity:
        hi = a[0]
        j = 0
        lo = a[0] + cutoffs[0]
        for i in range(1, n):
            hi = max(hi, a[i])
            if a[i] + cutoffs[i] < lo:
                lo = a[i] + cutoffs[i]
                j = i
        if hi >= attempts:
            return at[:d], stored[:d], 1
        if hi <= lo:
            t = hi + _failures(rng, p_trigger)
            if t <= lo:
                if t >= attempts:
                    return at[:d], stored[:d], 1
                state[n + 1] += 1
                keep = p_keep >= 1.0 or rng.random() < p_keep
                if keep:
                    at[d] = t
                for i in range(n):
                    if keep:
                        stored[d, i] = t - a[i]
                    a[i] = t + 1 + _failures(rng, p_links[i])
                d += keep
                continue
        a[j] = lo + 1 + _failures(rng, p_links[j])  # the link whose hold ends first is discarded
    return at[:d], stored[:d], 0
