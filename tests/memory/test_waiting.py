"""Memory renewal sampler against the closed forms (fixed seeds, tolerances from standard errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qrate.memory import waiting
from qrate.memory.renewal import sample_deliveries

pytestmark = pytest.mark.statistical
NO_CUTOFF = 1 << 40


def _cycles(at: np.ndarray) -> np.ndarray:
    """Attempts per delivery cycle (the first cycle starts at attempt 0)."""
    return np.diff(np.concatenate([[-1], at]))


def _within(samples: np.ndarray, expected: float, k: float = 5.0) -> None:
    se = samples.std(ddof=1) / math.sqrt(samples.size)
    assert abs(samples.mean() - expected) < k * se, (samples.mean(), expected, se)


def test_check_values_of_the_two_link_formula():
    assert waiting.expected_attempts_two_links(0.1, 3) == pytest.approx(25.31, abs=0.005)
    assert waiting.expected_attempts_two_links(0.1, 10) == pytest.approx(17.07, abs=0.005)
    assert waiting.expected_attempts_two_links(0.1) == pytest.approx(14.74, abs=0.005)
    assert waiting.expected_attempts_two_links(0.3, 0) == pytest.approx(1 / 0.09)
    assert waiting.expected_attempts([0.1, 0.1]) == pytest.approx(waiting.expected_attempts_two_links(0.1))
    pa, pb = 0.1, 0.3
    assert waiting.expected_attempts([pa, pb]) == pytest.approx(1 / pa + 1 / pb - 1 / (pa + pb - pa * pb))


@pytest.mark.parametrize("p, cutoff", [(0.1, None), (0.1, 3), (0.1, 10), (0.3, 0), (0.05, 1)])
def test_two_links_waiting_time(p, cutoff):
    rng = np.random.default_rng(11)
    at, _, _ = sample_deliveries(rng, [p, p], [NO_CUTOFF if cutoff is None else cutoff] * 2, 1.0, 4_000_000)
    _within(_cycles(at), waiting.expected_attempts_two_links(p, cutoff))


def test_n_links_inclusion_exclusion():
    rng = np.random.default_rng(12)
    p = [0.1, 0.2, 0.05, 0.3]
    at, _, _ = sample_deliveries(rng, p, [NO_CUTOFF] * 4, 1.0, 4_000_000)
    _within(_cycles(at), waiting.expected_attempts(p))


@pytest.mark.parametrize("cutoff", [4, 25])
def test_storage_time_distribution(cutoff):
    rng = np.random.default_rng(13)
    p = 0.1
    _, stored, _ = sample_deliveries(rng, [p, p], [cutoff, cutoff], 1.0, 4_000_000)
    k = stored.max(axis=1)
    assert stored.min(axis=1).max() == 0  # the later link is used in the attempt it succeeds
    observed = np.bincount(k, minlength=cutoff + 1)
    expected = waiting.storage_distribution_two_links(p, cutoff) * k.size
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert chi2 < cutoff + 1 + 5 * math.sqrt(2 * (cutoff + 1)), chi2


def test_trigger_and_multiplexing():
    """One stored link waiting for a memoryless trigger: E[T] = 1/p + (1 - p_t)/p_t with no cutoff."""
    rng = np.random.default_rng(14)
    p = waiting.multiplexed_probability(0.01, 10)
    assert p == pytest.approx(1 - 0.99**10)
    at, stored, _ = sample_deliveries(rng, [p], [NO_CUTOFF], 0.2, 4_000_000)
    _within(_cycles(at), 1 / p + 0.8 / 0.2)
    _within(stored[:, 0].astype(float), 0.8 / 0.2)  # the storage is the trigger's failures


def test_dephased_bell_pair_fidelity():
    """F = (1 + E[exp(-(tA + tB)/T2)])/2 from sampled dephasing flips equals the closed form."""
    rng = np.random.default_rng(15)
    p, tau, t2 = 0.2, 1e-3, 0.02
    _, stored, _ = sample_deliveries(rng, [p, p], [NO_CUTOFF] * 2, 1.0, 2_000_000)
    t = (stored + 1) * tau  # every stored qubit waits one attempt for its herald
    flips = rng.random(t.shape) < waiting.dephasing_flip_probability(t, t2)
    good = (flips.sum(axis=1) % 2 == 0).astype(float)
    x = math.exp(-tau / t2)
    c = math.exp(-2 * tau / t2) * waiting.mean_coherence_two_links(p, x)
    _within(good, waiting.bell_fidelity_dephased(c))
    assert waiting.chain_fidelity(p, tau, t2, 1.0) == pytest.approx(waiting.bell_fidelity_dephased(c))
    lam = 0.99
    mixed = rng.random(good.size) > lam  # the BSM's two-qubit depolarisation: F of I/4 is 1/4
    f = np.where(mixed, (rng.random(good.size) < 0.25).astype(float), good)
    _within(f, waiting.chain_fidelity(p, tau, t2, lam))


def test_requsim_reference_values():
    """The closed forms reproduce the published check values (20 km: 3818 pairs/s, F = 0.99087)."""
    length_m, c = 20e3, 2e8
    p = 0.8 * math.exp(-(length_m / 2) / 22e3)
    tau = length_m / c
    assert 1 / (tau * waiting.expected_attempts_two_links(p)) == pytest.approx(3818, abs=1)
    assert waiting.chain_fidelity(p, tau, 0.1, 0.99) == pytest.approx(0.99087, abs=1e-5)


def test_final_step_thinning_keeps_the_deliveries_count():
    rng = np.random.default_rng(16)
    at, _, delivered = sample_deliveries(rng, [0.1, 0.1], [NO_CUTOFF] * 2, 1.0, 4_000_000, p_keep=0.3)
    expected = 4_000_000 / waiting.expected_attempts_two_links(0.1)
    assert abs(delivered - expected) < 5 * math.sqrt(expected)
    assert abs(at.size - 0.3 * delivered) < 5 * math.sqrt(0.21 * delivered)
