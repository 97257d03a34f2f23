"""The user detectors and the sources of a scenario as domain objects, each built once from its table.

A :class:`Detector` is a ``[detectors]`` table (or a station's own) with its dark counts resolved to a
probability per gate; :meth:`Detector.detection` gives its effective efficiency and noise clicks at a
point. A :class:`Source` is the ``[sources]`` table: the clock, the Bell (platform) source and the GHZ
(station) sources; :meth:`Source.bell` gives a pair's emission and depolarising probabilities at a
point. The scenario builds them while it is validated (``Detectors.detector``, ``Sources.source``,
``Scenario.detector_of``) and the engine uses those objects (qrate/MODELS.md, "Realistic hardware").
Cheap to import: the formulas (:mod:`qrate.channels.detectors`, NumPy) are loaded on use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Detection:
    """One detector at one point: probability that a photon arriving is detected, noise clicks per gate."""

    efficiency: float
    noise_click_probability: float


@dataclass(frozen=True, slots=True)
class Detector:
    """A user's threshold detector.

    Attributes:
        efficiency: detection efficiency; dark_click_probability: dark counts per gate (from
            ``dark_count_probability``, or ``dark_count_rate_hz`` over ``gate_s``); readout_flip:
            outcome flip probability; gate_s: coincidence window (s); jitter_fwhm_s: Gaussian timing
            jitter (s); dead_time_s: non-paralysable dead time (s); afterpulse_probability: per click.
    """

    efficiency: float = 1.0
    dark_click_probability: float = 0.0
    readout_flip: float = 0.0
    gate_s: float = 1e-9
    jitter_fwhm_s: float = 0.0
    dead_time_s: float = 0.0
    afterpulse_probability: float = 0.0

    @classmethod
    def from_table(cls, table: Any) -> Detector:
        """The detector of a validated ``[detectors]`` table (:class:`qrate.scenario.schema.Detectors`)."""
        dark = table.dark_count_probability
        if table.dark_count_rate_hz is not None:
            from qrate.channels.detectors import dark_click_probability

            dark = dark_click_probability(table.dark_count_rate_hz, table.gate_s)
        return cls(
            efficiency=table.efficiency,
            dark_click_probability=dark,
            readout_flip=table.readout_flip,
            gate_s=table.gate_s,
            jitter_fwhm_s=table.jitter_fwhm_s,
            dead_time_s=table.dead_time_s,
            afterpulse_probability=table.afterpulse_probability,
        )

    def detection(self, rate_hz: float, arriving: float, background_click_probability: float = 0.0) -> Detection:
        """Effective efficiency and noise-click probability for a photon that arrives with probability
        ``arriving`` per pulse (source emission included: it sets the click rate that saturates the
        detector), with ``background_click_probability`` per gate.

        Efficiency × the fraction of true clicks inside the window ``gate_s`` (Gaussian jitter) × the
        live fraction of the dead time at the click rate; noise: dark counts, background and afterpulses
        driven by every primary click (:mod:`qrate.channels.detectors`).
        """
        from qrate.channels.detectors import afterpulse_click_probability, dead_time_efficiency, window_acceptance

        eta = self.efficiency
        if self.jitter_fwhm_s > 0.0:
            eta *= window_acceptance(self.gate_s, self.jitter_fwhm_s)
        p_noise = 1.0 - (1.0 - self.dark_click_probability) * (1.0 - background_click_probability)
        if self.dead_time_s > 0.0:
            clicks = arriving * eta + (1.0 - arriving * eta) * p_noise
            eta *= dead_time_efficiency(rate_hz * clicks, self.dead_time_s)
        if self.afterpulse_probability > 0.0:
            primary = arriving * eta + (1.0 - arriving * eta) * p_noise
            p_noise = 1.0 - (1.0 - p_noise) * (1.0 - afterpulse_click_probability(primary, self.afterpulse_probability))
        return Detection(eta, p_noise)


@dataclass(frozen=True, slots=True)
class Source:
    """The sources on one clock: Bell pairs on the platforms, GHZ states at the stations.

    Attributes:
        repetition_rate_hz: the clock; bell_success_probability: a deterministic Bell source's
            emission probability per pulse; ghz_success_probability: a GHZ source's;
            spdc_mean_pair_number: μ of an SPDC Bell source (None: deterministic); ghz_fidelity: F of
            each GHZ state; bell_state_error: e_d of genuine pairs.
    """

    repetition_rate_hz: float = 1e6
    bell_success_probability: float = 1.0
    ghz_success_probability: float = 1.0
    spdc_mean_pair_number: float | None = None
    ghz_fidelity: float = 1.0
    bell_state_error: float = 0.0

    @classmethod
    def from_table(cls, table: Any) -> Source:
        """The source of a validated ``[sources]`` table (:class:`qrate.scenario.schema.Sources`)."""
        return cls(
            repetition_rate_hz=table.repetition_rate_hz,
            bell_success_probability=table.bell_success_probability,
            ghz_success_probability=table.ghz_success_probability,
            spdc_mean_pair_number=table.spdc_mean_pair_number,
            ghz_fidelity=table.ghz_fidelity,
            bell_state_error=table.bell_state_error,
        )

    @property
    def bell_emission_probability(self) -> float:
        """Probability that a pulse emits a pair: μ/(1 + μ) for SPDC (thermal statistics), else
        ``bell_success_probability``."""
        mu = self.spdc_mean_pair_number
        return self.bell_success_probability if mu is None else mu / (1.0 + mu)

    def bell(self, eta_a: float, eta_b: float) -> tuple[float, float]:
        """``(probability that a pulse emits a pair, two-photon depolarising probability of a heralded pair)``
        for a pair whose photons see mean transmittances ``eta_a`` and ``eta_b``.

        SPDC: the multi-pair visibility V(μ, η_A, η_B) of :func:`qrate.channels.sources.multipair_visibility`
        gives 1 − V. Either way ``bell_state_error`` e_d adds a depolarisation 2 e_d (visibilities multiply).
        """
        intrinsic = 2.0 * self.bell_state_error  # depolarisation p gives the error rate p/2 in every basis
        mu = self.spdc_mean_pair_number
        if mu is None:
            return self.bell_emission_probability, intrinsic
        from qrate.channels.sources import multipair_depolarising_probability

        eta_a, eta_b = min(max(eta_a, 1e-12), 1.0), min(max(eta_b, 1e-12), 1.0)
        multi = multipair_depolarising_probability(mu, eta_a, eta_b)
        return self.bell_emission_probability, 1.0 - (1.0 - intrinsic) * (1.0 - multi)  # visibilities multiply
