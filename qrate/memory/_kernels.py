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


@numba.njit(cache=True, nogil=True)
def _any_success_failures(rng: np.random.Generator, p: float, free: int) -> int:
    """Attempts without a success of any of ``free`` modes, each succeeding with ``p`` (huge when free = 0)."""
    if free <= 0 or p <= 0.0:
        return 1 << 62
    q_all = np.exp(free * np.log1p(-p)) if p < 1.0 else 0.0
    return _failures(rng, 1.0 - q_all)


@numba.njit(cache=True, nogil=True)
def _successes_given_one(rng: np.random.Generator, p: float, free: int) -> int:
    """Successes among ``free`` modes given at least one: the first successful mode J (a geometric truncated
    at ``free``, by inversion) and Binomial(free − J, p) after it."""
    if p >= 1.0:
        return free
    q = 1.0 - p
    u = rng.random()
    tail = 1.0 - np.exp(free * np.log(q))
    j = 1 + int(np.floor(np.log1p(-u * tail) / np.log(q)))
    j = min(max(j, 1), free)
    return 1 + (rng.binomial(free - j, p) if free > j else 0)


@numba.njit(cache=True, nogil=True)
def multimode_deliveries(
    rng: np.random.Generator,
    p_links: np.ndarray,
    modes: np.ndarray,
    cutoffs: np.ndarray,
    p_trigger: float,
    p_keep: float,
    attempts: int,
    capacity: int,
) -> tuple[np.ndarray, int]:
    """Deliveries of N links with ``modes[i]`` memory modes each, paired first-in-first-out across modes.

    Every free mode of link i attempts at every attempt and succeeds with ``p_links[i]``; a success holds
    its mode until it is delivered or ``cutoffs[i]`` attempts have passed (then the mode attempts again
    from the next attempt). At an attempt at which every link holds a success, the oldest success of each
    link is delivered together: as many deliveries as every link can supply when there is no trigger
    (``p_trigger = 1``), else one per attempt at which the trigger succeeds. Delivered modes attempt
    again from the next attempt. Event-driven: the cost grows with the successes, not with the attempts.
    With one mode per link this is :func:`deliveries`' process.

    Returns:
        (storage attempts (D, N) of the deliveries kept, each with ``p_keep``; all deliveries, kept or not).
    """
    n = p_links.size
    big = 1 << 62
    size = 1
    for i in range(n):
        size = max(size, modes[i])
    queue = np.zeros((n, size), dtype=np.int64)  # ring buffers of success attempts, oldest first
    head = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    nxt = np.zeros(n, dtype=np.int64)
    for i in range(n):
        nxt[i] = _any_success_failures(rng, p_links[i], modes[i])
    stored = np.empty((capacity, n), dtype=np.int64)
    d = 0
    delivered = 0
    trig = big  # next attempt at which the trigger succeeds while every link holds a success
    while True:
        t = big
        for i in range(n):
            t = min(t, nxt[i])
            if count[i] > 0:
                t = min(t, queue[i, head[i]] + cutoffs[i] + 1)  # the oldest success is discarded then
        t = min(t, trig)
        if t >= attempts:
            break
        changed = np.zeros(n, dtype=np.bool_)
        for i in range(n):  # discard what has been held too long: those modes attempt again at t
            expired = False
            while count[i] > 0 and queue[i, head[i]] + cutoffs[i] < t:
                head[i] = (head[i] + 1) % size
                count[i] -= 1
                expired = True
            k = 0
            if expired:
                free = modes[i] - count[i]
                k = rng.binomial(free, p_links[i]) if free > 0 else 0
                changed[i] = True
            elif nxt[i] == t:
                k = _successes_given_one(rng, p_links[i], modes[i] - count[i])
                changed[i] = True
            for _ in range(k):
                queue[i, (head[i] + count[i]) % size] = t
                count[i] += 1
        ready = True
        for i in range(n):
            ready = ready and count[i] > 0
        if not ready:
            trig = big
        else:
            if p_trigger >= 1.0:
                pairs = count[0]
                for i in range(1, n):
                    pairs = min(pairs, count[i])
            else:
                if trig == big:
                    trig = t + _failures(rng, p_trigger)
                pairs = 1 if trig == t else 0
                if trig == t:
                    trig = big
            for _ in range(pairs):
                delivered += 1
                keep = p_keep >= 1.0 or rng.random() < p_keep
                if keep and d == stored.shape[0]:
                    grown = np.empty((2 * stored.shape[0], n), dtype=np.int64)
                    grown[:d] = stored[:d]
                    stored = grown
                for i in range(n):
                    if keep:
                        stored[d, i] = t - queue[i, head[i]]
                    head[i] = (head[i] + 1) % size
                    count[i] -= 1
                    changed[i] = True
                d += keep
            ready = True
            for i in range(n):
                ready = ready and count[i] > 0
            if ready and p_trigger < 1.0 and trig == big:
                trig = t + 1 + _failures(rng, p_trigger)
            if not ready:
                trig = big
        for i in range(n):
            if changed[i] or nxt[i] <= t:
                nxt[i] = t + 1 + _any_success_failures(rng, p_links[i], modes[i] - count[i])
    return stored[:d], delivered
