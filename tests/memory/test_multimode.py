"""Parallel memory modes (first-in, first-out pairing) against closed forms and a per-attempt reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qrate.memory import waiting
from qrate.memory.renewal import sample_multimode

pytestmark = pytest.mark.statistical
NO_CUTOFF = 1 << 40


def reference(rng, p, modes, cutoff, p_trigger, attempts):
    """Plain per-attempt simulation of the same policy (slow; small cases only)."""
    n = len(p)
    queues = [[] for _ in range(n)]  # success attempts, oldest first
    stored = []
    for t in range(attempts):
        for i in range(n):
            queues[i] = [a for a in queues[i] if a + cutoff[i] >= t]
            free = modes[i] - len(queues[i])
            queues[i] += [t] * int(rng.binomial(free, p[i]))
        if p_trigger >= 1.0:
            k = min(len(q) for q in queues)
        else:
            k = 1 if all(queues) and rng.random() < p_trigger else 0
        for _ in range(k):
            stored.append([t - q.pop(0) for q in queues])
    return np.array(stored, dtype=np.int64).reshape(-1, n)


def _rate_close(a: int, b: int) -> None:
    assert abs(a - b) < 5 * math.sqrt(a + b), (a, b)


@pytest.mark.parametrize("cutoff", [None, 3, 10])
def test_one_mode_per_link_is_the_two_link_process(cutoff):
    rng = np.random.default_rng(31)
    attempts = 2_000_000
    m = NO_CUTOFF if cutoff is None else cutoff
    stored, delivered = sample_multimode(rng, [0.1, 0.1], [1, 1], [m, m], 1.0, attempts)
    expected = attempts / waiting.expected_attempts_two_links(0.1, cutoff)
    assert abs(delivered - expected) < 5 * math.sqrt(expected), (delivered, expected)
    if cutoff is not None:
        observed = np.bincount(stored.max(axis=1), minlength=cutoff + 1)
        want = waiting.storage_distribution_two_links(0.1, cutoff) * stored.shape[0]
        chi2 = float(((observed - want) ** 2 / want).sum())
        assert chi2 < cutoff + 1 + 5 * math.sqrt(2 * (cutoff + 1))


@pytest.mark.parametrize(
    "p, modes, cutoff, p_trigger",
    [
        ((0.05, 0.08), (4, 6), (5, 5), 1.0),
        ((0.02, 0.03), (8, 8), (20, 12), 1.0),
        ((0.1,), (3,), (6,), 0.3),
        ((0.05, 0.05), (3, 3), (8, 8), 0.5),
    ],
)
def test_parallel_modes_match_a_per_attempt_reference(p, modes, cutoff, p_trigger):
    attempts = 60_000
    fast, delivered = sample_multimode(np.random.default_rng(32), p, modes, cutoff, p_trigger, attempts)
    slow = reference(np.random.default_rng(33), p, modes, cutoff, p_trigger, attempts)
    assert delivered == fast.shape[0]
    _rate_close(fast.shape[0], slow.shape[0])
    for i in range(len(p)):  # mean storage of each link, within standard errors
        a, b = fast[:, i].astype(float), slow[:, i].astype(float)
        se = math.hypot(a.std() / math.sqrt(a.size), b.std() / math.sqrt(b.size))
        assert abs(a.mean() - b.mean()) < 5 * se + 1e-9, (i, a.mean(), b.mean())


def test_many_modes_deliver_several_states_per_attempt():
    """1000 modes with p = 0.25 per mode and no cutoff pair about 250 states per attempt."""
    stored, delivered = sample_multimode(np.random.default_rng(34), [0.25, 0.25], [1000, 1000], [NO_CUTOFF] * 2, 1.0, 2000)
    assert 200 * 2000 < delivered < 300 * 2000
