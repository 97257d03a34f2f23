"""Closed forms of memory-assisted heralding: waiting times, storage times, stored-qubit decoherence.

Notation: ``p`` is one link's success probability per attempt (every efficiency included), ``q = 1 - p``,
``m`` a cutoff in attempts (a stored link is discarded when its partners have not all succeeded ``m``
attempts after it; it then attempts again). Times are in attempts unless a name says ``_s``.
Sources: inclusion–exclusion over the links' geometric success times (Shchukin, Schmidt, van Loock,
PRA 100, 032322 (2019) for exact repeater waiting times); the two-link chain fidelity as in Luong et
al., Appl. Phys. B 122, 96 (2016); multiplexing as in Collins et al., PRL 98, 060502 (2007).
Every formula is checked against the renewal sampler (:mod:`qrate.memory.renewal`) in the tests.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from qrate.formulas import binary_entropy


def multiplexed_probability(p: float, modes: int) -> float:
    """Success probability per attempt of ``modes`` independent modes each succeeding with ``p``: 1 − (1 − p)^M."""
    if modes < 1:
        raise ValueError(f"modes must be >= 1, got {modes}")
    return -math.expm1(modes * math.log1p(-min(p, 1.0))) if p < 1.0 else 1.0


def expected_attempts(p: Sequence[float]) -> float:
    """Mean attempts until every link has succeeded at least once (no cutoff: links wait forever).

    E[T] = Σ over non-empty link sets S of (−1)^(|S|+1) / (1 − Π_{i∈S} q_i).
    """
    q = [1.0 - x for x in p]
    total = 0.0
    for k in range(1, len(q) + 1):
        for subset in itertools.combinations(q, k):
            total += (-1) ** (k + 1) / (1.0 - math.prod(subset))
    return total


def expected_attempts_two_links(p: float, cutoff: int | None = None) -> float:
    """Mean attempts until two identical links coexist; ``cutoff`` m attempts (None: no cutoff).

    No cutoff: (3 − 2p)/(p(2 − p)); cutoff m: [1 + 2q(1 − q^m)] / [p(2 − p) − 2p q^(m+1)].
    """
    q = 1.0 - p
    if cutoff is None:
        return (3.0 - 2.0 * p) / (p * (2.0 - p))
    return (1.0 + 2.0 * q * (1.0 - q**cutoff)) / (p * (2.0 - p) - 2.0 * p * q ** (cutoff + 1))


def storage_distribution_two_links(p: float, cutoff: int) -> np.ndarray:
    """P(k) for k = 0..cutoff: attempts the first link of a delivered pair waited (∝ p² at 0, 2p²q^k after)."""
    q = 1.0 - p
    w = 2.0 * p * p * q ** np.arange(cutoff + 1, dtype=np.float64)
    w[0] = p * p
    return w / w.sum()


def mean_coherence_two_links(p: float, x: float) -> float:
    """E[x^|N1 − N2|] for two i.i.d. geometric links (no cutoff): p(1 + qx) / ((2 − p)(1 − qx))."""
    q = 1.0 - p
    return p * (1.0 + q * x) / ((2.0 - p) * (1.0 - q * x))


def dephasing_flip_probability(storage_s: np.ndarray | float, coherence_time_s: float) -> np.ndarray | float:
    """Z-flip probability after storage: (1 − exp(−t/T2))/2 (ρ → (1 − l)ρ + l ZρZ)."""
    return -np.expm1(-np.asarray(storage_s) / coherence_time_s) / 2.0


def depolarized_probability(storage_s: np.ndarray | float, coherence_time_s: float) -> np.ndarray | float:
    """Probability that a stored qubit was replaced by I/2: 1 − exp(−t/T) (ρ → wρ + (1 − w)I/2)."""
    return -np.expm1(-np.asarray(storage_s) / coherence_time_s)


def bell_fidelity_dephased(coherence: float) -> float:
    """Fidelity of a Bell pair whose stored halves keep coherence E[exp(−(t_A + t_B)/T2)]: (1 + c)/2."""
    return (1.0 + coherence) / 2.0


def chain_fidelity(p: float, attempt_s: float, coherence_time_s: float, bsm_lambda: float) -> float:
    """Two-link chain (one stored qubit per link for ≥ one attempt, dephasing), swapped by a BSM of parameter λ.

    F = λ(1 + E[c])/2 + (1 − λ)/4 with E[c] = exp(−2τ/T2) · p(1 + qx)/((2 − p)(1 − qx)), x = exp(−τ/T2).
    """
    x = math.exp(-attempt_s / coherence_time_s)
    c = math.exp(-2.0 * attempt_s / coherence_time_s) * mean_coherence_two_links(p, x)
    return bsm_lambda * (1.0 + c) / 2.0 + (1.0 - bsm_lambda) / 4.0


def chain_key_fraction(p: float, attempt_s: float, coherence_time_s: float, bsm_lambda: float, f_ec: float = 1.0) -> float:
    """Asymptotic BB84 secret fraction of the two-link chain: 1 − h(e_X) − f h(e_Z) (clipped at 0).

    e_Z = (1 − λ)/2, e_X = λ(1 − E[c])/2 + (1 − λ)/2 (Luong et al. 2016).
    """
    x = math.exp(-attempt_s / coherence_time_s)
    c = math.exp(-2.0 * attempt_s / coherence_time_s) * mean_coherence_two_links(p, x)
    e_z = (1.0 - bsm_lambda) / 2.0
    e_x = bsm_lambda * (1.0 - c) / 2.0 + (1.0 - bsm_lambda) / 2.0
    return max(0.0, 1.0 - float(binary_entropy(e_x)) - f_ec * float(binary_entropy(e_z)))
