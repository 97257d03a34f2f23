"""Single-photon detectors: dead time, afterpulsing, timing jitter against a coincidence window, and
the resulting effective efficiency and noise-click probability per gate.

Formulas (rates in Hz, times in s, probabilities per gate):

* Non-paralysable dead time tau_d: a detector offered a click rate r (the rate it would register
  with no dead time) registers m = r / (1 + r tau_d), i.e. it is live a fraction 1/(1 + r tau_d)
  of the time; inversely r = m / (1 - m tau_d) (G. F. Knoll, *Radiation Detection and
  Measurement*, 4th ed., Wiley 2010, ch. 4).
* Afterpulsing: each registered click is followed, within the next gates, by an extra click with
  probability p_ap; afterpulses can themselves afterpulse, so in steady state the afterpulse clicks
  per gate A satisfy A = p_ap (p + A), A = p_ap p / (1 - p_ap) for a primary click probability p per
  gate (p_ap as defined by G. Humer et al., J. Lightwave Technol. 33, 3098 (2015)); an afterpulse is
  a noise click with a random outcome.
* Timing jitter: the arrival-time difference of the two photons of a pair (or of a photon and its
  clock) is Gaussian with the combined FWHM t_D = sqrt(sum t_i^2) of the independent jitters; a
  coincidence window of **full** width tau_c centred on the expected delay accepts the fraction
  eta_tau = erf(sqrt(ln 2) tau_c / t_D) (e.g. S. P. Neumann et al., Phys. Rev. A 104, 022406 (2021)).
  eta_tau = 0.76 / 0.92 / 0.98 / 0.9996 at tau_c/t_D = 1 / 1.5 / 2 / 3.
* Dark counts at rate R_dark in a gate of length d_t: p_dark = 1 - exp(-R_dark d_t).

Presets (:data:`DETECTOR_PRESETS`): ``snspd`` is the WSi superconducting nanowire detector of
F. Marsili et al., Nat. Photon. 7, 210 (2013) (system efficiency 0.93 at 1550 nm, ~1 cps dark,
150 ps jitter, 40 ns reset, no afterpulsing); ``si_spad`` has typical data-sheet values of a
thick-junction silicon SPAD module at 780-850 nm (Excelitas SPCM-AQRH class: efficiency ~0.5-0.65,
dark 25-500 cps, 350 ps jitter, 22 ns dead time, 0.5 % afterpulsing).
"""

from __future__ import annotations

import math

from qrate.channels._checks import check_nonnegative, check_probability, check_real
from qrate.errors import InputError


def dead_time_detected_rate_hz(incident_rate_hz: float, dead_time_s: float) -> float:
    """Registered click rate m = r / (1 + r tau_d) of a non-paralysable detector offered ``incident_rate_hz``."""
    r = check_nonnegative("incident_rate_hz", incident_rate_hz)
    tau = check_nonnegative("dead_time_s", dead_time_s)
    return r / (1.0 + r * tau)


def dead_time_true_rate_hz(detected_rate_hz: float, dead_time_s: float) -> float:
    """Offered click rate r = m / (1 - m tau_d) behind a registered rate ``detected_rate_hz`` (needs m tau_d < 1)."""
    m = check_nonnegative("detected_rate_hz", detected_rate_hz)
    tau = check_nonnegative("dead_time_s", dead_time_s)
    if m * tau >= 1.0:
        raise InputError("detected_rate_hz", f"a non-paralysable detector registers < 1/dead_time = {1.0 / tau:g} Hz, got {m:g}")
    return m / (1.0 - m * tau)


def dead_time_efficiency(incident_rate_hz: float, dead_time_s: float) -> float:
    """Live fraction 1 / (1 + r tau_d): the factor dead time applies to the detection efficiency."""
    r = check_nonnegative("incident_rate_hz", incident_rate_hz)
    tau = check_nonnegative("dead_time_s", dead_time_s)
    return 1.0 / (1.0 + r * tau)


def combined_jitter_fwhm_s(*jitters_fwhm_s: float) -> float:
    """FWHM (s) of the sum of independent Gaussian jitters: sqrt(sum t_i^2)."""
    return math.sqrt(sum(check_nonnegative("jitter_fwhm_s", t) ** 2 for t in jitters_fwhm_s))


def window_acceptance(window_s: float, jitter_fwhm_s: float) -> float:
    """Fraction erf(sqrt(ln 2) tau_c / t_D) of true coincidences inside a centred window of full width tau_c."""
    window = check_nonnegative("window_s", window_s)
    jitter = check_nonnegative("jitter_fwhm_s", jitter_fwhm_s)
    if jitter == 0.0:
        return 1.0 if window > 0.0 else 0.0
    return math.erf(math.sqrt(math.log(2.0)) * window / jitter)


def dark_click_probability(dark_count_rate_hz: float, gate_s: float) -> float:
    """Probability 1 - exp(-R_dark d_t) of at least one dark count in a gate."""
    rate = check_nonnegative("dark_count_rate_hz", dark_count_rate_hz)
    gate = check_nonnegative("gate_s", gate_s)
    return -math.expm1(-rate * gate)


def afterpulse_click_probability(primary_click_probability: float, afterpulse_probability: float) -> float:
    """Afterpulse click probability per gate, 1 - exp(-A) with A = p_ap p / (1 - p_ap) (see the module doc)."""
    p = check_probability("primary_click_probability", primary_click_probability)
    p_ap = check_real("afterpulse_probability", afterpulse_probability, lo=0.0, hi=1.0, hi_open=True)
    return -math.expm1(-p_ap * p / (1.0 - p_ap))
