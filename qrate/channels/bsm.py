"""Linear-optics Bell-state measurement (fusion): success probability and the Pauli error that
partial distinguishability of the two photons leaves on the fused state.

**Success.** A Bell measurement with passive linear optics and vacuum ancillas identifies at most
two of the four Bell states, p <= 1/2 (J. Calsamiglia, N. Lütkenhaus, Appl. Phys. B 72, 67 (2001));
both photons must also be detected, so p_BSM = p_0 eta_1 eta_2 with p_0 = 1/2 and eta_i the
detection efficiency of each photon (its transmission to and through the BSM included). Schemes
with ancilla photons exceed 1/2 (up to 3/4: W. P. Grice, Phys. Rev. A 84, 042331 (2011);
F. Ewert, P. van Loock, Phys. Rev. Lett. 113, 140403 (2014)); ``base_success_probability`` selects
such a p_0.

**Distinguishability.** Let the two photons carry internal (spectral-temporal) states rho_1, rho_2;
their two-photon (Hong-Ou-Mandel) interference visibility is V = Tr(rho_1 rho_2), |<phi_1|phi_2>|^2
for pure states (C. K. Hong, Z. Y. Ou, L. Mandel, Phys. Rev. Lett. 59, 2044 (1987)). In a
polarising-beam-splitter fusion (D. E. Browne, T. Rudolph, Phys. Rev. Lett. 95, 010501 (2005)) the
two post-selected terms |HH>|phi_1>_c|phi_2>_d and |VV>|phi_2>_c|phi_1>_d exchange the photons'
internal states between the output ports; the detectors do not resolve them, so tracing them out
multiplies the coherence between the two branches by <phi_2 phi_1|phi_1 phi_2> = V. The fused state
is then

    rho = (1 + V)/2 |GHZ><GHZ| + (1 - V)/2 Z_1 |GHZ><GHZ| Z_1,

a Z error with probability p_Z = (1 - V)/2 on one qubit of the fused state (the same holds for a
beam-splitter Psi^- BSM). Its fidelity is F = (1 + V)/2; the Z-basis correlations are untouched and
each fusion multiplies the X-parity factor by (1 - 2 p_Z) = V. A depolarising description would
put errors in the Z basis that this mechanism does not produce, so qrate uses the Z form.
"""

from __future__ import annotations

from dataclasses import dataclass

from qrate.channels._checks import check_probability, check_real

#: p_0 of a passive linear-optics BSM without ancillas
LINEAR_OPTICS_SUCCESS = 0.5


def bsm_success_probability(
    efficiency_1: float, efficiency_2: float | None = None, *, base_success_probability: float = LINEAR_OPTICS_SUCCESS
) -> float:
    """p_BSM = p_0 eta_1 eta_2 (eta_2 = eta_1 when not given): 1/2 eta^2 for linear optics."""
    eta_1 = check_probability("efficiency_1", efficiency_1)
    eta_2 = eta_1 if efficiency_2 is None else check_probability("efficiency_2", efficiency_2)
    p_0 = check_real("base_success_probability", base_success_probability, lo=0.0, hi=1.0, lo_open=True)
    return p_0 * eta_1 * eta_2


def fusion_z_error_probability(hom_visibility: float) -> float:
    """Z-error probability p_Z = (1 - V)/2 on the fused state for a two-photon interference visibility V."""
    v = check_probability("hom_visibility", hom_visibility)
    return 0.5 * (1.0 - v)


def fusion_fidelity(hom_visibility: float) -> float:
    """Fidelity (1 + V)/2 of the fused state with the ideal one."""
    return 1.0 - fusion_z_error_probability(hom_visibility)


@dataclass(frozen=True)
class LinearOpticsBSM:
    """A linear-optics BSM.

    Attributes:
        detector_efficiency: eta of each of the two photons' detection, in [0, 1].
        hom_visibility: two-photon interference visibility V, in [0, 1].
        base_success_probability: p_0, 1/2 for passive linear optics.
    """

    detector_efficiency: float = 1.0
    hom_visibility: float = 1.0
    base_success_probability: float = LINEAR_OPTICS_SUCCESS

    def __post_init__(self) -> None:
        check_probability("detector_efficiency", self.detector_efficiency)
        check_probability("hom_visibility", self.hom_visibility)
        check_real("base_success_probability", self.base_success_probability, lo=0.0, hi=1.0, lo_open=True)

    @property
    def success_probability(self) -> float:
        """p_0 eta^2."""
        return bsm_success_probability(self.detector_efficiency, base_success_probability=self.base_success_probability)

    @property
    def z_error_probability(self) -> float:
        """(1 - V)/2 on one qubit of the fused state."""
        return fusion_z_error_probability(self.hom_visibility)
