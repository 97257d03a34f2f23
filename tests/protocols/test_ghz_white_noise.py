"""One GHZ noise model: white noise (1 - p)|GHZ><GHZ| + p I/2^N, exact as correlated Pauli terms."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from qrate.channels.sources import ghz_depolarising_probability, ghz_white_noise_terms
from qrate.protocols.carriers import CircuitBuilder, ghz
from qrate.protocols.noise import PauliNoise


def _coset(term: tuple[str, ...]) -> int:
    """Index of a representative Z_1^a X_B in Z_2^N: bit 0 = a, bit i = qubit i+1 in B."""
    return (term[0] == "Z") | sum(1 << i for i, t in enumerate(term[1:], start=1) if t == "X")


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_independent_terms_give_exactly_the_white_noise_distribution(n: int) -> None:
    p = 0.3
    q, terms = ghz_white_noise_terms(n, p)
    assert len(terms) == 2**n - 1 and len({_coset(t) for t in terms}) == 2**n - 1
    dist = np.zeros(2**n)
    dist[0] = 1.0
    for t in terms:  # convolve: with probability q the coset index is XORed with the term's
        c = _coset(t)
        dist = (1 - q) * dist + q * dist[np.arange(2**n) ^ c]
    expected = np.full(2**n, p / 2**n)
    expected[0] += 1 - p
    np.testing.assert_allclose(dist, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("n", [3, 4])
def test_sampled_state_has_the_white_noise_statistics(n: int) -> None:
    """Z outcomes all equal with probability 1 - p + 2p/2^N, X parity even with 1 - p/2 (4 sigma)."""
    f = 0.85
    p = ghz_depolarising_probability(f, n)
    b = CircuitBuilder()
    names = [f"q{i}" for i in range(n)]
    ghz(b, names, f)
    shots = 200_000
    for basis, statistic, expected in (
        ("M", lambda s: np.all(s == s[:, :1], axis=1), 1 - p + 2 * p / 2**n),
        ("MX", lambda s: s.sum(axis=1) % 2 == 0, 1 - p / 2),
    ):
        c = b.circuit.copy()
        for i in range(n):
            c.append(basis, [i])
        s = c.compile_sampler(seed=11).sample(shots)
        got = float(np.mean(statistic(s)))
        assert got == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / shots))
    assert 1 - p + p / 2**n == pytest.approx(f, rel=1e-12)  # the state's fidelity


def test_conference_key_errors_from_an_imperfect_ghz_source() -> None:
    """Khan's Q-ACKA network, ideal but for a GHZ source of F = 0.9 at GS1 (3 users + 1 fusion qubit):
    every pairwise Z error and the X-parity error is p/2, p = 0.1/(1 - 1/16)."""
    from qrate.engine.plan import protocol_of
    from qrate.scenario import load_scenario

    proto = protocol_of(load_scenario("khan-acka-leo"))
    counts = proto.compile(PauliNoise(ghz_fidelity={"GS1": 0.9}), sampler="exact").sample_counts(2_000_000, 3)
    expected = 0.5 * 0.1 / (1 - 1 / 16)
    for num, den in (
        ("x_parity_errors", "verify_rounds_x"),
        ("z_err:Alice:Bob", "key_rounds"),
        ("z_err:Alice:Dina", "key_rounds"),
    ):
        rate, n = counts[num] / counts[den], counts[den]
        assert rate == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / n))
    assert list(itertools.islice(PauliNoise(ghz_fidelity={"GS1": 0.9}).as_dict(), 5))[-1] == "ghz_fidelity"
    assert "ghz_fidelity" not in PauliNoise().as_dict()  # ids of noise without it are unchanged
