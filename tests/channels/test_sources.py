"""SPDC and GHZ sources: photon statistics, herald/coincidence closed forms against sums over n,
the multi-pair QBER against a photon-level Monte Carlo, depolarising forms against density matrices."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qrate.channels.sources import (
    GHZSource,
    SPDCSource,
    coincidence_probability,
    entangled_pair_statistics,
    ghz_depolarising_probability,
    herald_probability,
    multipair_depolarising_probability,
    multipair_visibility,
    pair_number_probability,
)
from qrate.errors import InputError

SEED = 20260304


@pytest.mark.parametrize("modes", [1, 2, 5])
def test_pair_number_distribution_is_normalised_with_mean_mu(modes: int) -> None:
    mu = 0.3
    p = np.array([pair_number_probability(n, mu, modes) for n in range(200)])
    assert p.sum() == pytest.approx(1.0, abs=1e-13)
    assert (np.arange(200) * p).sum() == pytest.approx(mu, rel=1e-12)
    if modes == 1:
        np.testing.assert_allclose(p[:10], [mu**n / (1 + mu) ** (n + 1) for n in range(10)], rtol=1e-12)
    if modes == 2:  # polarisation-entangled: (n+1) lambda^n / (1+lambda)^(n+2), lambda = mu/2
        lam = mu / 2
        np.testing.assert_allclose(p[:10], [(n + 1) * lam**n / (1 + lam) ** (n + 2) for n in range(10)], rtol=1e-12)


def test_herald_and_coincidence_probabilities_match_sums_over_n() -> None:
    mu, eta_a, eta_b, d_a, d_b = 0.4, 0.3, 0.7, 1e-3, 5e-4
    n = np.arange(300)
    p = np.array([pair_number_probability(int(k), mu) for k in n])
    herald = np.sum(p * (1 - (1 - d_a) * (1 - eta_a) ** n))
    assert herald_probability(mu, eta_a, noise_probability=d_a) == pytest.approx(herald, rel=1e-12)
    assert herald_probability(mu, eta_a) == pytest.approx(mu * eta_a / (1 + mu * eta_a), rel=1e-12)
    both = np.sum(
        p
        * (
            1
            - (1 - d_a) * (1 - eta_a) ** n
            - (1 - d_b) * (1 - eta_b) ** n
            + (1 - d_a) * (1 - d_b) * ((1 - eta_a) * (1 - eta_b)) ** n
        )
    )
    got = coincidence_probability(mu, eta_a, eta_b, noise_probability_a=d_a, noise_probability_b=d_b)
    assert got == pytest.approx(both, rel=1e-12)
    assert SPDCSource(mu).herald_probability(eta_a, d_a) == herald_probability(mu, eta_a, noise_probability=d_a)


def simulate_pairs(
    mu: float, eta_a: float, eta_b: float, d: float, e_d: float, n: int, g: np.random.Generator
) -> tuple[float, float, int]:
    """Photon-level model: two thermal mode pairs (n1, n2), binomial loss, per-detector noise, random
    bit for double clicks, intrinsic flip e_d of a genuine pair. Returns (Q, E, coincidences)."""
    lam = mu / 2
    n1 = g.geometric(1 / (1 + lam), n) - 1  # P(k) = lambda^k / (1+lambda)^(k+1)
    n2 = g.geometric(1 / (1 + lam), n) - 1
    flip = g.random(n) < e_d  # the pair's correlation is flipped: swap which mode B's photons land in
    b1, b2 = np.where(flip, n2, n1), np.where(flip, n1, n2)
    a_click = [(g.binomial(n1, eta_a) > 0) | (g.random(n) < d), (g.binomial(n2, eta_a) > 0) | (g.random(n) < d)]
    b_click = [(g.binomial(b1, eta_b) > 0) | (g.random(n) < d), (g.binomial(b2, eta_b) > 0) | (g.random(n) < d)]

    def bit(c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
        return np.where(c0 & c1, g.random(n) < 0.5, c1)  # single click: which detector; double: random

    coinc = (a_click[0] | a_click[1]) & (b_click[0] | b_click[1])
    wrong = bit(*a_click) != bit(*b_click)
    k = int(coinc.sum())
    return k / n, float(wrong[coinc].mean()), k


@pytest.mark.statistical
def test_multipair_qber_matches_a_photon_level_monte_carlo() -> None:
    g = np.random.default_rng(np.random.SeedSequence(SEED))
    mu, eta_a, eta_b, d, e_d, n = 0.2, 0.3, 0.5, 0.03, 0.02, 1_000_000
    q_mc, e_mc, k = simulate_pairs(mu, eta_a, eta_b, d, e_d, n, g)
    stats = entangled_pair_statistics(
        mu, eta_a, eta_b, detector_noise_probability_a=d, detector_noise_probability_b=d, intrinsic_error=e_d
    )
    assert abs(q_mc - stats.coincidence_probability) < 5 * math.sqrt(stats.coincidence_probability / n)
    se = math.sqrt(stats.qber * (1 - stats.qber) / k)
    assert abs(e_mc - stats.qber) < 5 * se
    # Ma-Fung-Lo's form lacks the factor (1 - d_A)(1 - d_B) on the correlated term: off by > 5 SE here
    lam = mu / 2
    a, b = eta_a * lam, eta_b * lam
    x = eta_a * eta_b * lam * (1 + lam) / ((1 + a) * (1 + b) * (1 + a + b - eta_a * eta_b * lam))
    mfl = 0.5 - (1 - 2 * e_d) * x / stats.coincidence_probability
    assert abs(e_mc - mfl) > 5 * se


def test_multipair_visibility_closed_forms() -> None:
    for mu in (0.01, 0.1, 0.5):
        lam = mu / 2
        assert multipair_visibility(mu) == pytest.approx((1 + lam) / (1 + 3 * lam), rel=1e-12)
        assert multipair_visibility(mu, 1e-9, 1e-9) == pytest.approx((1 + lam) / (1 + 3 * lam), rel=1e-8)
        assert multipair_visibility(mu, 1.0, 1.0) == pytest.approx(2 / (2 + lam), rel=1e-12)
        assert multipair_depolarising_probability(mu) == pytest.approx(1 - multipair_visibility(mu), rel=1e-12)
    assert multipair_visibility(0.02) == pytest.approx(0.98, abs=1e-3)  # V ~ 1 - mu
    # the stable closed form agrees with inclusion-exclusion where that has digits to spare
    q = coincidence_probability(0.3, 0.4, 0.6, noise_probability_a=0.02, noise_probability_b=0.01, modes=2)
    d_a, d_b = 1 - math.sqrt(0.98), 1 - math.sqrt(0.99)
    stats = entangled_pair_statistics(0.3, 0.4, 0.6, detector_noise_probability_a=d_a, detector_noise_probability_b=d_b)
    assert stats.coincidence_probability == pytest.approx(q, rel=1e-12)
    # efficiency helps: V rises with eta
    vs = [multipair_visibility(0.1, e, e) for e in (1e-3, 0.1, 0.5, 1.0)]
    assert all(x < y for x, y in zip(vs, vs[1:]))


def bell_density(p: float) -> np.ndarray:
    phi = np.zeros(4)
    phi[0] = phi[3] = 1 / math.sqrt(2)
    return (1 - p) * np.outer(phi, phi) + p * np.eye(4) / 4


def test_depolarising_probability_reproduces_the_visibility() -> None:
    stats = entangled_pair_statistics(0.1, 0.2, 0.4)
    rho = bell_density(stats.depolarising_probability)
    zz = np.diag([1.0, -1.0, -1.0, 1.0])
    xx = np.kron(np.array([[0, 1], [1, 0]]), np.array([[0, 1], [1, 0]]))
    assert np.trace(rho @ zz) == pytest.approx(stats.visibility, rel=1e-12)
    assert np.trace(rho @ xx) == pytest.approx(stats.visibility, rel=1e-12)
    assert (1 - np.trace(rho @ zz)) / 2 == pytest.approx(stats.qber, rel=1e-12)


@pytest.mark.parametrize("n_qubits", [2, 3, 4])
def test_ghz_fidelity_to_depolarising_probability(n_qubits: int) -> None:
    dim = 2**n_qubits
    ghz = np.zeros(dim)
    ghz[0] = ghz[-1] = 1 / math.sqrt(2)
    fidelity = 0.9
    p = ghz_depolarising_probability(fidelity, n_qubits)
    rho = (1 - p) * np.outer(ghz, ghz) + p * np.eye(dim) / dim
    assert ghz @ rho @ ghz == pytest.approx(fidelity, rel=1e-12)
    src = GHZSource(n_qubits, generation_probability=3.6e-3, fidelity=fidelity)
    assert src.depolarising_probability == p
    assert ghz_depolarising_probability(1.0, n_qubits) == 0.0
    assert ghz_depolarising_probability(2.0**-n_qubits, n_qubits) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: SPDCSource(0.0), "mean_pair_number"),
        (lambda: SPDCSource(-0.1), "mean_pair_number"),
        (lambda: SPDCSource(0.1, modes=0), "modes"),
        (lambda: herald_probability(0.1, 1.2), "herald_efficiency"),
        (lambda: pair_number_probability(-1, 0.1), "n"),
        (lambda: entangled_pair_statistics(0.1, 0.0, 0.5), "efficiency_a"),
        (lambda: entangled_pair_statistics(0.1, 0.5, 0.5, intrinsic_error=0.7 + 0.5), "intrinsic_error"),
        (lambda: multipair_visibility(0.1, 0.0), "efficiency_a"),
        (lambda: GHZSource(3, fidelity=0.1), "fidelity"),
        (lambda: GHZSource(3, generation_probability=0.0), "generation_probability"),
        (lambda: GHZSource(1), "n_qubits"),
    ],
)
def test_bad_inputs_raise_input_error(call, field: str) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert info.value.field == field
