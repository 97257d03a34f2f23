"""Realistic hardware at one point: noise clicks, GHZ-state infidelity, linear-optics BSMs.

The detectors and sources are domain objects of their own (:mod:`qrate.channels.devices`), the
background light is the link's (:meth:`qrate.channels.link.FreeSpaceLink.background_click_probability`).
Each function here turns scenario fields and the point's mean transmittances into the two things the
engine needs: a probability that enters the success probability (efficiencies, noise clicks,
source and BSM success) and a Pauli error of the heralded state (qrate/MODELS.md, "Realistic
hardware"). A click that may be noise gives a uniformly random outcome: with τ the probability
that the photon is detected and p the noise-click probability, a fraction
q = (1 − τ) p / (τ + (1 − τ) p) of the heralding clicks are noise, which depolarises that photon
(X, Y, Z each q/4: stim ``DEPOLARIZE1(3q/4)``).
"""

from __future__ import annotations

import math
from typing import Any


def noise_fraction(detected: float, noise_click_probability: float) -> float:
    """Fraction of heralding clicks that are noise: (1 − τ) p / (τ + (1 − τ) p)."""
    click = detected + (1.0 - detected) * noise_click_probability
    return (1.0 - detected) * noise_click_probability / click if click > 0 else 0.0


def compose_depolarizing(a: float, b: float) -> float:
    """``DEPOLARIZE1(a)`` then ``DEPOLARIZE1(b)`` as one ``DEPOLARIZE1``: a + b − 4ab/3."""
    return a + b - 4.0 * a * b / 3.0


def bsm(spec: Any) -> tuple[float, float]:
    """``(success probability, Z-error probability of the fused state)`` of one Bell-state measurement."""
    if spec.model == "linear_optics":
        from qrate.channels.bsm import bsm_success_probability, fusion_z_error_probability

        return bsm_success_probability(spec.detector_efficiency), fusion_z_error_probability(spec.hom_visibility)
    return spec.success_probability, 0.0


def ghz_photon_depolarizing(fidelity: float, n_photons: int) -> float:
    """Per-photon ``DEPOLARIZE1`` probability 1 − F^(1/N) standing for a GHZ state of fidelity F."""
    return 0.0 if fidelity >= 1.0 else 1.0 - math.pow(fidelity, 1.0 / max(n_photons, 1))
