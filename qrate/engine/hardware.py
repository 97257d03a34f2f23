"""Realistic hardware at one point: detectors, SPDC and GHZ sources, linear-optics BSMs (background light: the
link's, :meth:`qrate.channels.link.FreeSpaceLink.background_click_probability`).

Each function turns scenario fields and the point's mean transmittances into the two things the
engine needs: a probability that enters the success probability (efficiencies, noise clicks,
source and BSM success) and a Pauli error of the heralded state (qrate/MODELS.md, "Realistic
hardware"). A click that may be noise gives a uniformly random outcome: with τ the probability
that the photon is detected and p the noise-click probability, a fraction
q = (1 − τ) p / (τ + (1 − τ) p) of the heralding clicks are noise, which depolarises that photon
(X, Y, Z each q/4: stim ``DEPOLARIZE1(3q/4)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from qrate.channels.detectors import afterpulse_click_probability, dark_click_probability, dead_time_efficiency, window_acceptance

@dataclass(frozen=True, slots=True)
class Detection:
    """One detector at one point: probability that a photon arriving is detected, noise clicks per gate."""

    efficiency: float
    noise_click_probability: float


def detection(det: Any, rate_hz: float, arriving: float, background_click_probability: float = 0.0) -> Detection:
    """Effective efficiency and noise-click probability of a ``[detectors]`` table for a photon that
    arrives with probability ``arriving`` per pulse (source emission included: it sets the click
    rate that saturates the detector), with ``background_click_probability`` per gate.

    Efficiency × the fraction of true clicks inside the window ``gate_s`` (Gaussian jitter) × the
    live fraction of the dead time at the click rate; noise: dark counts, background and afterpulses
    driven by every primary click (:mod:`qrate.channels.detectors`).
    """
    eta = det.efficiency
    if det.jitter_fwhm_s > 0.0:
        eta *= window_acceptance(det.gate_s, det.jitter_fwhm_s)
    p_dark = (
        det.dark_count_probability
        if det.dark_count_rate_hz is None
        else dark_click_probability(det.dark_count_rate_hz, det.gate_s)
    )
    p_noise = 1.0 - (1.0 - p_dark) * (1.0 - background_click_probability)
    if det.dead_time_s > 0.0:
        clicks = arriving * eta + (1.0 - arriving * eta) * p_noise
        eta *= dead_time_efficiency(rate_hz * clicks, det.dead_time_s)
    if det.afterpulse_probability > 0.0:
        primary = arriving * eta + (1.0 - arriving * eta) * p_noise
        p_noise = 1.0 - (1.0 - p_noise) * (1.0 - afterpulse_click_probability(primary, det.afterpulse_probability))
    return Detection(eta, p_noise)


def noise_fraction(detected: float, noise_click_probability: float) -> float:
    """Fraction of heralding clicks that are noise: (1 − τ) p / (τ + (1 − τ) p)."""
    click = detected + (1.0 - detected) * noise_click_probability
    return (1.0 - detected) * noise_click_probability / click if click > 0 else 0.0


def compose_depolarizing(a: float, b: float) -> float:
    """``DEPOLARIZE1(a)`` then ``DEPOLARIZE1(b)`` as one ``DEPOLARIZE1``: a + b − 4ab/3."""
    return a + b - 4.0 * a * b / 3.0


def bell_source(sources: Any, eta_a: float, eta_b: float) -> tuple[float, float]:
    """``(probability that a pulse emits a pair, two-photon depolarising probability of a heralded pair)``.

    SPDC with mean pair number μ (thermal statistics): P(≥ 1 pair) = μ/(1 + μ), and the multi-pair
    visibility V(μ, η_A, η_B) of :func:`qrate.channels.sources.multipair_visibility` gives 1 − V.
    Otherwise: ``bell_success_probability``. Either way ``bell_state_error`` e_d adds a depolarisation
    2 e_d (visibilities multiply).
    """
    intrinsic = 2.0 * sources.bell_state_error  # depolarisation p gives the error rate p/2 in every basis
    mu = sources.spdc_mean_pair_number
    if mu is None:
        return sources.bell_success_probability, intrinsic
    from qrate.channels.sources import multipair_depolarising_probability

    eta_a, eta_b = min(max(eta_a, 1e-12), 1.0), min(max(eta_b, 1e-12), 1.0)
    multi = multipair_depolarising_probability(mu, eta_a, eta_b)
    return mu / (1.0 + mu), 1.0 - (1.0 - intrinsic) * (1.0 - multi)  # visibilities multiply


def bsm(spec: Any) -> tuple[float, float]:
    """``(success probability, Z-error probability of the fused state)`` of one Bell-state measurement."""
    if spec.model == "linear_optics":
        from qrate.channels.bsm import bsm_success_probability, fusion_z_error_probability

        return bsm_success_probability(spec.detector_efficiency), fusion_z_error_probability(spec.hom_visibility)
    return spec.success_probability, 0.0


def ghz_photon_depolarizing(fidelity: float, n_photons: int) -> float:
    """Per-photon ``DEPOLARIZE1`` probability 1 − F^(1/N) standing for a GHZ state of fidelity F."""
    return 0.0 if fidelity >= 1.0 else 1.0 - math.pow(fidelity, 1.0 / max(n_photons, 1))
