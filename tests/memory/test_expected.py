"""Closed-form expected values of memory plans against the sampler (fixed seeds, standard errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qrate.memory.expected import expected_rate_hz, mean_event_probabilities
from qrate.memory.herald import herald_memory
from qrate.memory.plan import NO_CUTOFF, MemoryPlan, StoredPhoton

pytestmark = pytest.mark.statistical


def _plan(p_links, cutoffs, p_trigger, decoherence="dephasing"):
    photons = tuple(
        StoredPhoton(j, (f"m{j}",), "n", 2e-3, 0.05, decoherence, 0.8, None, "exponential") for j in range(len(p_links))
    )
    n = len(p_links)
    return MemoryPlan(
        1e-3, 1, ("a", "b")[:n], tuple(p_links), (1,) * n, tuple(p_links), tuple(cutoffs), p_trigger, p_trigger, 0.5, photons
    )


@pytest.mark.parametrize(
    "p_links, cutoffs, p_trigger, decoherence",
    [
        ((0.05,), (NO_CUTOFF,), 0.1, "dephasing"),
        ((0.05,), (7,), 0.1, "depolarizing"),
        ((0.1, 0.1), (NO_CUTOFF, NO_CUTOFF), 1.0, "dephasing"),
        ((0.1, 0.1), (12, 12), 1.0, "dephasing"),
        ((0.1, 0.2, 0.3), (NO_CUTOFF,) * 3, 0.5, "depolarizing"),
    ],
)
def test_expected_rate_and_noise_match_the_sampler(p_links, cutoffs, p_trigger, decoherence):
    mp = _plan(p_links, cutoffs, p_trigger, decoherence)
    duration_s = 3000.0
    h = herald_memory(mp, duration_s, np.random.default_rng(21))
    expected = expected_rate_hz(mp) * duration_s
    assert abs(h.successes - expected) < 5 * math.sqrt(expected), (h.successes, expected)
    if len(p_links) <= 2:
        for j, p in enumerate(mean_event_probabilities(mp)):
            events = sum(n for code, n in h.classes.items() if code >> j & 1)
            assert abs(events - p * h.successes) < 5 * math.sqrt(h.successes * p * (1 - p)), (j, events, p * h.successes)


def test_no_closed_form_says_so():
    with pytest.raises(ValueError):
        expected_rate_hz(_plan((0.1, 0.2), (3, 5), 0.5))


def test_long_cutoffs_approach_no_cutoff_without_arrays_of_their_length():
    for p_links, p_trigger in (((1e-4,), 1e-3), ((1e-3, 1e-3), 1.0)):
        n = len(p_links)
        long = _plan(p_links, (10**12,) * n, p_trigger)
        none = _plan(p_links, (NO_CUTOFF,) * n, p_trigger)
        assert expected_rate_hz(long) == pytest.approx(expected_rate_hz(none), rel=1e-6)
        assert mean_event_probabilities(long) == pytest.approx(mean_event_probabilities(none), rel=1e-6)
