"""Detectors: dead time and afterpulsing against event simulations, jitter window against sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qrate.channels.detectors import (
    afterpulse_click_probability,
    combined_jitter_fwhm_s,
    dark_click_probability,
    dead_time_detected_rate_hz,
    dead_time_efficiency,
    dead_time_true_rate_hz,
    window_acceptance,
)
from qrate.channels.devices import Detector
from qrate.errors import InputError

SEED = 20260303


def rng(offset: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(SEED + offset))


@pytest.mark.statistical
def test_non_paralysable_dead_time_matches_an_event_simulation() -> None:
    rate, tau, duration = 2.0e7, 40e-9, 5e-3  # r tau = 0.8: strong saturation
    times = np.cumsum(rng().exponential(1.0 / rate, int(rate * duration * 1.2)))
    times = times[times < duration]
    registered, blind_until = 0, -1.0
    for t in times.tolist():
        if t >= blind_until:
            registered += 1
            blind_until = t + tau
    expected = dead_time_detected_rate_hz(rate, tau) * duration
    # registered counts of a renewal process: variance below Poisson; a Poisson SE is conservative
    assert abs(registered - expected) < 5 * math.sqrt(expected)
    assert dead_time_efficiency(rate, tau) == pytest.approx(1 / 1.8)
    assert dead_time_true_rate_hz(dead_time_detected_rate_hz(rate, tau), tau) == pytest.approx(rate, rel=1e-12)


@pytest.mark.statistical
def test_window_acceptance_matches_sampled_gaussian_jitter() -> None:
    t_a, t_b = 300e-12, 150e-12
    t_d = combined_jitter_fwhm_s(t_a, t_b)
    assert t_d == pytest.approx(math.hypot(t_a, t_b))
    sigma = lambda fwhm: fwhm / (2 * math.sqrt(2 * math.log(2)))
    g = rng(1)
    dt = g.normal(0, sigma(t_a), 400_000) - g.normal(0, sigma(t_b), 400_000)
    window = 500e-12
    p = window_acceptance(window, t_d)
    frac = np.mean(np.abs(dt) <= window / 2)
    assert abs(frac - p) < 5 * math.sqrt(p * (1 - p) / dt.size)
    # tabulated values erf(sqrt(ln 2) x) at tau_c / t_D = 1, 1.5, 2, 3
    for x, v in [(1.0, 0.7610), (1.5, 0.9230), (2.0, 0.9815), (3.0, 0.99959)]:
        assert window_acceptance(x * 1e-9, 1e-9) == pytest.approx(v, abs=5e-4)
    assert window_acceptance(1e-9, 0.0) == 1.0


@pytest.mark.statistical
def test_afterpulse_cascade_matches_a_branching_simulation() -> None:
    p, p_ap, n = 0.05, 0.3, 400_000
    g = rng(2)
    primaries = g.random(n) < p
    # every click (primary or afterpulse) spawns one more afterpulse with probability p_ap
    afterpulses = np.zeros(n, dtype=np.int64)
    alive = primaries.copy()
    while alive.any():
        alive = alive & (g.random(n) < p_ap)
        afterpulses += alive
    mean = afterpulses.mean()
    expected_mean = p_ap * p / (1 - p_ap)
    assert abs(mean - expected_mean) < 5 * afterpulses.std() / math.sqrt(n)
    assert afterpulse_click_probability(p, p_ap) == pytest.approx(-math.expm1(-expected_mean), rel=1e-12)


def test_noise_click_probability_combines_independent_sources() -> None:
    p_dark = dark_click_probability(500.0, 2e-9)
    assert p_dark == pytest.approx(1 - math.exp(-1e-6))
    det = Detector(efficiency=0.6, dark_click_probability=p_dark, gate_s=2e-9).detection(1e6, 0.0, 1e-5)
    assert det.noise_click_probability == pytest.approx(1 - (1 - p_dark) * (1 - 1e-5), rel=1e-12)
    ap = Detector(dark_click_probability=p_dark, gate_s=2e-9, afterpulse_probability=0.05).detection(1e6, 0.01, 1e-5)
    primary = 1 - (1 - 0.01) * (1 - p_dark) * (1 - 1e-5)  # afterpulses follow every primary click
    p_ap = afterpulse_click_probability(primary, 0.05)
    assert ap.noise_click_probability == pytest.approx(1 - (1 - p_dark) * (1 - 1e-5) * (1 - p_ap), rel=1e-12)


def test_effective_efficiency_is_the_product_of_the_factors() -> None:
    """A silicon SPAD module (efficiency 0.55, 350 ps jitter, 22 ns dead time) clicking at 1 MHz."""
    det = Detector(efficiency=0.55, gate_s=1e-9, jitter_fwhm_s=350e-12, dead_time_s=22e-9).detection(1e8, 0.01 / 0.55)
    eta_w = 0.55 * math.erf(math.sqrt(math.log(2)) * 1e-9 / 350e-12)
    clicks = 0.01 / 0.55 * eta_w
    assert det.efficiency == pytest.approx(eta_w / (1 + 1e8 * clicks * 22e-9), rel=1e-12)
    assert Detector().detection(1e9, 1.0).efficiency == 1.0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: dead_time_true_rate_hz(3e7, 40e-9), "detected_rate_hz"),
        (lambda: window_acceptance(-1e-9, 1e-10), "window_s"),
    ],
)
def test_bad_inputs_raise_input_error(call, field: str) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert info.value.field == field
