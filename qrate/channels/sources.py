"""Photon-pair (SPDC) and GHZ sources: photon-number statistics, herald and coincidence
probabilities with lossy threshold detectors, and the multi-pair error as a depolarising
probability.

**Pair-number statistics.** One pulsed SPDC mode pair (signal and idler in single modes) emits n
pairs with the thermal distribution P(n) = mu^n / (1 + mu)^(n+1), mean mu. A source of m
independent, equally bright mode pairs (mean mu/m each) has the negative-binomial distribution
P(n) = C(n+m-1, n) (mu/m)^n / (1 + mu/m)^(n+m); m = 2 is the polarisation-entangled source
(two mode pairs, H_A V_B and V_A H_B), m -> inf the Poisson limit of a CW or multimode source
(X. Ma, C.-H. F. Fung, H.-K. Lo, Phys. Rev. A 76, 012307 (2007)). The probability
generating function is G(x) = sum_n P(n) x^n = (1 + (mu/m)(1 - x))^(-m).

**Threshold detectors with loss.** Each photon reaches and fires a detector independently with
probability eta (channel x optics x detector), and a detector clicks with at least one photon, so
P(no click | n photons) = (1 - eta)^n and, averaged, P(no click) = (1 - p_noise) G(1 - eta). This
gives the herald probability and, for two sides, the coincidence probability in closed form.

**Multi-pair error (polarisation-entangled source, two threshold detectors per side).** The two
mode pairs carry n1, n2 ~ thermal(lambda), lambda = mu/2, independently; in the measurement basis
side A's detector j and side B's detector j both see n_j photons. With p_ab the click pattern of one
mode pair on (A_j, B_j), a coincidence is wrong for single clicks (1,0)/(0,1) and random (error
1/2) when a side double-clicks (the 'squashing' assignment of a random bit), which gives exactly

    E Q = Q/2 - (1 - 2 e_d)(1 - d_A)(1 - d_B) X,
    X = eta_A eta_B lambda (1 + lambda) / [(1 + a)(1 + b)(1 + a + b - eta_A eta_B lambda)],
    a = eta_A lambda, b = eta_B lambda,

with d the noise-click probability of each single detector and e_d the intrinsic (alignment)
error. Ma, Fung & Lo (2007) give the same without the factor (1 - d_A)(1 - d_B),
which is 1 - O(d). With no noise and eta -> 0, E = lambda/(1 + 3 lambda). The visibility of the
correlations is V = 1 - 2E, the same in every basis; a two-qubit depolarising channel
rho -> (1 - p) rho + p I/4 gives V = 1 - p, so the heralded pair carries p = 1 - V = 2E.

**GHZ sources.** An N-qubit GHZ source succeeds with probability p_gen per pulse and delivers the
state (1 - p)|GHZ><GHZ| + p I/2^N, whose fidelity F = 1 - p (1 - 2^-N) gives
p = (1 - F)/(1 - 2^-N). Sampling: with probability p apply a uniformly random N-qubit Pauli
(identity included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

from qrate.channels._checks import check_count, check_positive, check_probability, check_real
from qrate.errors import InputError


def _check_modes(modes: int) -> int:
    return check_count("modes", modes, lo=1)


def pair_number_probability(n: int, mean_pair_number: float, modes: int = 1) -> float:
    """P(n pairs) of ``modes`` independent thermal mode pairs with total mean ``mean_pair_number``.

    modes = 1: mu^n / (1 + mu)^(n+1); modes = m: C(n+m-1, n) (mu/m)^n / (1 + mu/m)^(n+m).
    """
    n = check_count("n", n)
    mu = check_positive("mean_pair_number", mean_pair_number)
    m = _check_modes(modes)
    x = mu / m
    log_p = special.gammaln(n + m) - special.gammaln(n + 1) - special.gammaln(m) + n * math.log(x) - (n + m) * math.log1p(x)
    return math.exp(log_p)


def _generating_function(x: float, mean_pair_number: float, modes: int) -> float:
    """G(x) = (1 + (mu/m)(1 - x))^(-m)."""
    return (1.0 + (mean_pair_number / modes) * (1.0 - x)) ** (-modes)


def herald_probability(
    mean_pair_number: float, herald_efficiency: float, *, noise_probability: float = 0.0, modes: int = 1
) -> float:
    """Probability that a threshold detector on one arm clicks in a pulse:

    1 - (1 - p_noise) (1 + mu eta/m)^(-m)   (= mu eta / (1 + mu eta) for one mode and no noise).
    """
    mu = check_positive("mean_pair_number", mean_pair_number)
    eta = check_probability("herald_efficiency", herald_efficiency)
    p_n = check_probability("noise_probability", noise_probability)
    m = _check_modes(modes)
    return 1.0 - (1.0 - p_n) * _generating_function(1.0 - eta, mu, m)


def coincidence_probability(
    mean_pair_number: float,
    efficiency_a: float,
    efficiency_b: float,
    *,
    noise_probability_a: float = 0.0,
    noise_probability_b: float = 0.0,
    modes: int = 1,
) -> float:
    """Probability that both arms click (one threshold detector per arm, or per side for ``modes`` = 2
    with per-side noise), inclusion-exclusion over 'no click':

    Q = 1 - (1 - d_A) G(1 - eta_A) - (1 - d_B) G(1 - eta_B) + (1 - d_A)(1 - d_B) G((1 - eta_A)(1 - eta_B)).

    With modes = 2 and d the per-side noise probability Y0 this is Ma, Fung & Lo's gain Q_lambda.
    """
    mu = check_positive("mean_pair_number", mean_pair_number)
    eta_a = check_probability("efficiency_a", efficiency_a)
    eta_b = check_probability("efficiency_b", efficiency_b)
    d_a = check_probability("noise_probability_a", noise_probability_a)
    d_b = check_probability("noise_probability_b", noise_probability_b)
    m = _check_modes(modes)
    g = lambda x: _generating_function(x, mu, m)
    return (
        1.0
        - (1.0 - d_a) * g(1.0 - eta_a)
        - (1.0 - d_b) * g(1.0 - eta_b)
        + (1.0 - d_a) * (1.0 - d_b) * g((1.0 - eta_a) * (1.0 - eta_b))
    )


@dataclass(frozen=True)
class PairStatistics:
    """Coincidences of a polarisation-entangled SPDC source measured by two sides.

    Attributes:
        coincidence_probability: Q, both sides click, per pulse.
        qber: E, the error rate of the coincidences.
        visibility: V = 1 - 2E.
        depolarising_probability: p = 1 - V of the equivalent two-qubit depolarising channel.
    """

    coincidence_probability: float
    qber: float
    visibility: float
    depolarising_probability: float


def entangled_pair_statistics(
    mean_pair_number: float,
    efficiency_a: float,
    efficiency_b: float,
    *,
    detector_noise_probability_a: float = 0.0,
    detector_noise_probability_b: float = 0.0,
    intrinsic_error: float = 0.0,
) -> PairStatistics:
    """Gain, QBER and visibility of a polarisation-entangled SPDC source (mean pair number mu per pulse,
    two thermal mode pairs) detected by two threshold detectors per side (module doc).

    Args:
        mean_pair_number: mu = 2 lambda, total mean pairs per pulse (> 0).
        efficiency_a, efficiency_b: total efficiency per photon of each side (channel x optics x detector).
        detector_noise_probability_a, detector_noise_probability_b: noise-click probability per gate of
            **each** of a side's two detectors (the side's Y0 = 1 - (1 - d)^2).
        intrinsic_error: e_d, the probability that a genuine pair gives the wrong correlation.
    """
    mu = check_positive("mean_pair_number", mean_pair_number)
    eta_a = check_probability("efficiency_a", efficiency_a)
    eta_b = check_probability("efficiency_b", efficiency_b)
    d_a = check_probability("detector_noise_probability_a", detector_noise_probability_a)
    d_b = check_probability("detector_noise_probability_b", detector_noise_probability_b)
    e_d = check_probability("intrinsic_error", intrinsic_error)
    lam = 0.5 * mu
    a, b = eta_a * lam, eta_b * lam
    c = a + b - eta_a * eta_b * lam
    # photon-only click patterns of one mode pair, each a sum of positive terms (no cancellation
    # at small efficiencies): x11 = P(both), x10 = P(A only), x01 = P(B only), x00 = P(neither)
    den = (1.0 + a) * (1.0 + b) * (1.0 + c)
    x11 = a * (eta_b * (1.0 + a) + b * (2.0 - eta_a) + b * c) / den
    x10 = a * (1.0 - eta_b) / ((1.0 + b) * (1.0 + c))
    x01 = b * (1.0 - eta_a) / ((1.0 + a) * (1.0 + c))
    x00 = 1.0 / (1.0 + c)
    # with independent noise clicks on each detector
    p11 = x11 + x10 * d_b + x01 * d_a + x00 * d_a * d_b
    p10 = (1.0 - d_b) * (x10 + x00 * d_a)
    p01 = (1.0 - d_a) * (x01 + x00 * d_b)
    p00 = (1.0 - d_a) * (1.0 - d_b) * x00
    # both sides click in either mode pair: p11 (any second pair) + single-sided first pair completed by the second
    q = p11 * (1.0 + p10 + p01 + p00) + 2.0 * p10 * p01
    if q == 0.0:
        raise InputError("efficiency_a", "no coincidences: an efficiency is 0 and there is no noise")
    x = eta_a * eta_b * lam * (1.0 + lam) / den  # = (p11 p00 - p10 p01) / ((1 - d_A)(1 - d_B))
    qber = 0.5 - (1.0 - 2.0 * e_d) * (1.0 - d_a) * (1.0 - d_b) * x / q
    visibility = 1.0 - 2.0 * qber
    return PairStatistics(q, qber, visibility, 1.0 - visibility)


def multipair_visibility(mean_pair_number: float, efficiency_a: float | None = None, efficiency_b: float | None = None) -> float:
    """Visibility V(mu, eta_A, eta_B) of the coincidences of a noiseless polarisation-entangled SPDC source,
    lowered only by multi-pair emission (module doc). Without efficiencies: the low-efficiency limit
    V = (1 + lambda)/(1 + 3 lambda) = (2 + mu)/(2 + 3 mu) ~ 1 - mu; V rises towards 2/(2 + lambda) at eta = 1.
    """
    mu = check_positive("mean_pair_number", mean_pair_number)
    if efficiency_a is None and efficiency_b is None:
        return (2.0 + mu) / (2.0 + 3.0 * mu)
    eta_a = check_real("efficiency_a", efficiency_a, lo=0.0, hi=1.0, lo_open=True)
    eta_b = eta_a if efficiency_b is None else check_real("efficiency_b", efficiency_b, lo=0.0, hi=1.0, lo_open=True)
    return entangled_pair_statistics(mu, eta_a, eta_b).visibility


def multipair_depolarising_probability(
    mean_pair_number: float, efficiency_a: float | None = None, efficiency_b: float | None = None
) -> float:
    """Two-qubit depolarising probability p = 1 - V(mu, eta_A, eta_B) of a heralded pair from multi-pair emission."""
    return 1.0 - multipair_visibility(mean_pair_number, efficiency_a, efficiency_b)


@dataclass(frozen=True)
class SPDCSource:
    """A pulsed SPDC pair source.

    Attributes:
        mean_pair_number: mu, mean pairs per pulse (> 0).
        modes: independent thermal mode pairs (1: single-mode pairs, P(n) = mu^n/(1+mu)^(n+1);
            2: polarisation-entangled pairs).
        intrinsic_error: e_d of genuine pairs (alignment, imperfect entanglement).
    """

    mean_pair_number: float
    modes: int = 1
    intrinsic_error: float = 0.0

    def __post_init__(self) -> None:
        check_positive("mean_pair_number", self.mean_pair_number)
        _check_modes(self.modes)
        check_probability("intrinsic_error", self.intrinsic_error)

    def pair_number_probability(self, n: int) -> float:
        """P(n pairs per pulse)."""
        return pair_number_probability(n, self.mean_pair_number, self.modes)

    def herald_probability(self, herald_efficiency: float, noise_probability: float = 0.0) -> float:
        """Probability that the herald detector clicks (:func:`herald_probability`)."""
        return herald_probability(self.mean_pair_number, herald_efficiency, noise_probability=noise_probability, modes=self.modes)


#: largest GHZ state whose white noise qrate applies exactly (2^N - 1 correlated Pauli terms); beyond it, per photon
GHZ_EXACT_MAX_QUBITS = 10


def ghz_white_noise_terms(n_qubits: int, depolarising_probability: float) -> tuple[float, list[tuple[str, ...]]]:
    """The white noise (1 - p)|GHZ><GHZ| + p I/2^N of an N-qubit GHZ state as independent correlated Pauli terms.

    Paulis that differ by a stabiliser of the GHZ state (X...X, Z_i Z_j) act alike on it, so only the
    2^N cosets matter; their representatives are Z_1^a X_B (a in {0, 1}, B a subset of qubits 2..N),
    and the white noise puts probability 1 - p + p/2^N on the trivial coset and p/2^N on every other.
    Applying each of the 2^N - 1 non-trivial representatives independently with probability

        q = (1 - (1 - p)^(2/2^N)) / 2

    gives exactly that distribution: on the group Z_2^N of cosets, every non-trivial character sees
    half of the elements with sign -1, so both distributions have the Fourier transform 1 - p there
    (the construction stim uses for DEPOLARIZE1/2). Returns ``(q, terms)``, each term a tuple of
    one Pauli letter per qubit (``"I"``, ``"X"``, ``"Z"`` or ``"Y"``).
    """
    n = check_count("n_qubits", n_qubits, lo=1)
    p = check_probability("depolarising_probability", depolarising_probability)
    q = 0.5 * -math.expm1(2.0 ** (1 - n) * math.log1p(-p)) if p < 1.0 else 0.5
    terms: list[tuple[str, ...]] = []
    for a in (0, 1):
        for mask in range(2 ** (n - 1)):
            if a == 0 and mask == 0:
                continue
            rest = tuple("X" if mask >> (i - 1) & 1 else "I" for i in range(1, n))
            terms.append(("Z" if a else "I", *rest))
    return q, terms


def ghz_photon_depolarising_probability(fidelity: float, n_qubits: int) -> float:
    """Per-photon DEPOLARIZE1 probability 1 - F^(1/N): the local approximation of a GHZ state of fidelity F
    used beyond :data:`GHZ_EXACT_MAX_QUBITS` qubits (it makes the state less noisy than white noise of the
    same fidelity: Z errors on an even number of photons leave it unchanged)."""
    n = check_count("n_qubits", n_qubits, lo=1)
    f = check_real("fidelity", fidelity, lo=0.0, hi=1.0)
    return 0.0 if f >= 1.0 else 1.0 - math.pow(f, 1.0 / n)


def ghz_depolarising_probability(fidelity: float, n_qubits: int) -> float:
    """Global depolarising probability p = (1 - F)/(1 - 2^-N) of an N-qubit GHZ state of fidelity F >= 2^-N."""
    n = check_count("n_qubits", n_qubits, lo=2)
    floor = 2.0 ** (-n)
    f = check_real("fidelity", fidelity, lo=floor, hi=1.0)
    return (1.0 - f) / (1.0 - floor)


@dataclass(frozen=True)
class GHZSource:
    """An N-qubit GHZ source on the common clock.

    Attributes:
        n_qubits: N >= 2 (N = 2 is a Bell-pair source).
        generation_probability: probability per pulse that the state is produced, in (0, 1].
        fidelity: fidelity with the ideal GHZ state, in [2^-N, 1].
    """

    n_qubits: int
    generation_probability: float = 1.0
    fidelity: float = 1.0

    def __post_init__(self) -> None:
        check_count("n_qubits", self.n_qubits, lo=2)
        check_real("generation_probability", self.generation_probability, lo=0.0, hi=1.0, lo_open=True)
        ghz_depolarising_probability(self.fidelity, self.n_qubits)

    @property
    def depolarising_probability(self) -> float:
        """p of the global depolarising channel (1 - p) |GHZ><GHZ| + p I/2^N."""
        return ghz_depolarising_probability(self.fidelity, self.n_qubits)
