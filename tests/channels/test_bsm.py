"""Linear-optics BSM: success probability, and the Z error of a fusion of partially distinguishable
photons against an explicit state-vector calculation with internal (spectral) modes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qrate.channels.bsm import LinearOpticsBSM, bsm_success_probability, fusion_fidelity, fusion_z_error_probability
from qrate.errors import InputError


def test_success_probability_is_half_eta_squared() -> None:
    assert bsm_success_probability(0.8) == pytest.approx(0.5 * 0.64)
    assert bsm_success_probability(0.8, 0.5) == pytest.approx(0.5 * 0.4)
    assert bsm_success_probability(0.9, base_success_probability=0.75) == pytest.approx(0.75 * 0.81)
    assert LinearOpticsBSM(detector_efficiency=0.9).success_probability == pytest.approx(0.405)
    assert LinearOpticsBSM().success_probability == 0.5


def fused_state(
    internal_1: np.ndarray, internal_2: np.ndarray, weights: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Two-qubit state left after a PBS fusion of photon 1 (entangled with qubit A) and photon 2 (with B),
    post-selected on one photon per output port and the (+, +) outcome.

    The HH branch puts photon 1 (internal state phi_1) in port c and photon 2 in port d, the VV branch
    the reverse; the unresolved internal modes are traced out. ``weights`` turns the internal states
    into mixtures: rows of internal_i are the pure components, weights their probabilities.
    """
    if weights is None:
        internal_1, internal_2 = internal_1[None, :], internal_2[None, :]
        weights = (np.ones(1), np.ones(1))
    rho = np.zeros((4, 4), dtype=complex)
    for w1, phi1 in zip(weights[0], internal_1):
        for w2, phi2 in zip(weights[1], internal_2):
            # amplitude |00>_AB |phi1>_c |phi2>_d + |11>_AB |phi2>_c |phi1>_d
            branch_00 = np.kron(phi1, phi2)
            branch_11 = np.kron(phi2, phi1)
            psi = np.zeros((4, branch_00.size), dtype=complex)
            psi[0] = branch_00
            psi[3] = branch_11
            rho += w1 * w2 * psi @ psi.conj().T  # trace over the internal modes
    return rho / np.trace(rho)


def phi_plus_density(p_z: float) -> np.ndarray:
    phi = np.array([1, 0, 0, 1]) / math.sqrt(2)
    z1 = np.diag([1, 1, -1, -1])
    ideal = np.outer(phi, phi)
    return (1 - p_z) * ideal + p_z * z1 @ ideal @ z1


@pytest.mark.parametrize("overlap_angle", [0.0, 0.3, 0.9, math.pi / 2])
def test_fusion_of_partially_distinguishable_photons_is_a_z_error(overlap_angle: float) -> None:
    phi1 = np.array([1.0, 0.0, 0.0])
    phi2 = np.array([math.cos(overlap_angle), math.sin(overlap_angle) * np.exp(0.4j), 0.0])
    v = abs(np.vdot(phi1, phi2)) ** 2  # HOM visibility of pure internal states
    rho = fused_state(phi1, phi2)
    np.testing.assert_allclose(rho, phi_plus_density(fusion_z_error_probability(v)), atol=1e-12)
    assert fusion_fidelity(v) == pytest.approx(np.real(np.array([1, 0, 0, 1]) @ rho @ np.array([1, 0, 0, 1])) / 2, rel=1e-12)


def test_fusion_with_mixed_internal_states_uses_tr_rho1_rho2() -> None:
    g = np.random.default_rng(5)
    comps_1 = g.normal(size=(3, 4)) + 1j * g.normal(size=(3, 4))
    comps_2 = g.normal(size=(2, 4)) + 1j * g.normal(size=(2, 4))
    comps_1 /= np.linalg.norm(comps_1, axis=1)[:, None]
    comps_2 /= np.linalg.norm(comps_2, axis=1)[:, None]
    w1, w2 = np.array([0.5, 0.3, 0.2]), np.array([0.6, 0.4])
    rho_1 = sum(w * np.outer(c, c.conj()) for w, c in zip(w1, comps_1))
    rho_2 = sum(w * np.outer(c, c.conj()) for w, c in zip(w2, comps_2))
    v = float(np.real(np.trace(rho_1 @ rho_2)))
    rho = fused_state(comps_1, comps_2, (w1, w2))
    np.testing.assert_allclose(rho, phi_plus_density(fusion_z_error_probability(v)), atol=1e-12)
    assert LinearOpticsBSM(hom_visibility=0.9).z_error_probability == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: bsm_success_probability(-0.1), "efficiency_1"),
        (lambda: bsm_success_probability(0.9, 1.2), "efficiency_2"),
        (lambda: bsm_success_probability(0.9, base_success_probability=0.0), "base_success_probability"),
        (lambda: LinearOpticsBSM(hom_visibility=1.1), "hom_visibility"),
        (lambda: LinearOpticsBSM(detector_efficiency=float("inf")), "detector_efficiency"),
        (lambda: fusion_z_error_probability(-0.2), "hom_visibility"),
    ],
)
def test_bad_inputs_raise_input_error(call, field: str) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert info.value.field == field
