"""Sky background: photons and clicks per gate against an independent evaluation, defaults, the
QBER of noisy clicks against a per-gate Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qrate.channels.background import (
    BackgroundSpec,
    accidental_fraction,
    background_photons_per_gate,
    click_probability_from_mean,
    fov_solid_angle_sr,
    noisy_qber,
    single_mode_solid_angle_sr,
    sky_radiance_w_m2_sr_nm,
)
from qrate.errors import InputError

H_PLANCK = 6.62607015e-34  # J s (exact, SI 2019)
C_LIGHT = 299792458.0  # m/s (exact)
SEED = 20260302


def test_photons_per_gate_worked_example() -> None:
    # 810 nm, 1.2 m telescope, 100 urad full-angle FOV, 5 nm filter, dark night sky: ~1.1e3 photons/s
    rate = background_photons_per_gate(
        radiance_w_m2_sr_nm=6e-9,
        wavelength_m=810e-9,
        solid_angle_sr=fov_solid_angle_sr(100e-6),
        aperture_radius_m=0.6,
        filter_bandwidth_nm=5.0,
        gate_s=1.0,
    )
    expected = 6e-9 * (math.pi * 50e-6**2) * (math.pi * 0.36) * 5.0 * 810e-9 / (H_PLANCK * C_LIGHT)
    assert rate == pytest.approx(expected, rel=1e-8)
    assert 1.0e3 < rate < 1.2e3


def test_solid_angle_of_a_cone() -> None:
    assert fov_solid_angle_sr(math.pi) == pytest.approx(2 * math.pi, rel=1e-12)  # hemisphere
    assert fov_solid_angle_sr(2 * math.pi) == pytest.approx(4 * math.pi, rel=1e-12)
    assert fov_solid_angle_sr(1e-4) == pytest.approx(math.pi * 0.25e-8, rel=1e-8)


def test_single_mode_receiver_collects_lambda_squared_whatever_the_aperture() -> None:
    common = {"radiance_w_m2_sr_nm": 3e-3, "wavelength_m": 1550e-9, "filter_bandwidth_nm": 1.0, "gate_s": 1.0}
    rates = [
        background_photons_per_gate(solid_angle_sr=single_mode_solid_angle_sr(1550e-9, a), aperture_radius_m=a, **common)
        for a in (0.05, 0.5)
    ]
    assert rates[0] == pytest.approx(rates[1], rel=1e-12)
    assert rates[0] == pytest.approx(3e-3 * 1550e-9**2 * 1550e-9 / (H_PLANCK * C_LIGHT), rel=1e-8)


def test_spec_click_probability_is_poisson_and_override_wins() -> None:
    spec = BackgroundSpec(sky="day", fov_full_angle_rad=100e-6, filter_bandwidth_nm=1.0, gate_s=1e-9, receiver_efficiency=0.5)
    n = spec.photons_per_gate(810e-9, 0.5)
    expected_n = 3e-2 * fov_solid_angle_sr(100e-6) * math.pi * 0.25 * 1.0 * 1e-9 * 0.5 * 810e-9 / (H_PLANCK * C_LIGHT)
    assert n == pytest.approx(expected_n, rel=1e-8)
    assert spec.click_probability_per_gate(810e-9, 0.5) == pytest.approx(-math.expm1(-n), rel=1e-12)
    assert click_probability_from_mean(2.0) == pytest.approx(1 - math.exp(-2.0))
    assert BackgroundSpec(click_probability=3e-6).click_probability_per_gate(810e-9, 0.5) == 3e-6
    explicit = BackgroundSpec(radiance_w_m2_sr_nm=1e-7, fov_solid_angle_sr=1e-8, gate_s=1e-9)
    assert explicit.radiance(1550e-9) == 1e-7


def test_default_sky_radiances_are_ordered() -> None:
    for lam in (810e-9, 1550e-9):
        night, moon, day = (sky_radiance_w_m2_sr_nm(s, lam) for s in ("night", "moonlit", "day"))
        assert night <= moon < day
    assert sky_radiance_w_m2_sr_nm("day", 1550e-9) < sky_radiance_w_m2_sr_nm("day", 810e-9)
    assert sky_radiance_w_m2_sr_nm("night", 810e-9) == 6e-9


@pytest.mark.statistical
def test_noisy_qber_matches_a_per_gate_monte_carlo() -> None:
    rng = np.random.default_rng(np.random.SeedSequence(SEED))
    n, eta, p_noise, e_d = 2_000_000, 0.01, 2e-3, 0.02
    signal = rng.random(n) < eta
    noise = rng.random(n) < p_noise
    click = signal | noise
    # a detected signal gives the right bit unless flipped (e_d); a noise-only click a random bit
    wrong = np.where(signal, rng.random(n) < e_d, rng.random(n) < 0.5)
    k = int(click.sum())
    e_mc = wrong[click].mean()
    y = eta + (1 - eta) * p_noise
    expected = noisy_qber(y, (1 - eta) * p_noise, e_d)
    assert abs(e_mc - expected) < 5 * math.sqrt(expected * (1 - expected) / k)
    assert abs(k / n - y) < 5 * math.sqrt(y * (1 - y) / n)
    assert accidental_fraction(eta, p_noise) == pytest.approx((1 - eta) * p_noise / y, rel=1e-12)
    assert noisy_qber(y, 0.0, e_d) == pytest.approx(e_d)
    assert noisy_qber(y, y, e_d) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: BackgroundSpec(radiance_w_m2_sr_nm=-1e-9, fov_full_angle_rad=1e-4), "radiance_w_m2_sr_nm"),
        (lambda: BackgroundSpec(fov_full_angle_rad=1e-4, fov_solid_angle_sr=1e-8), "fov_full_angle_rad/fov_solid_angle_sr"),
        (lambda: BackgroundSpec(), "fov_full_angle_rad/fov_solid_angle_sr"),
        (lambda: BackgroundSpec(fov_full_angle_rad=-1e-4), "fov_full_angle_rad"),
        (lambda: BackgroundSpec(fov_full_angle_rad=1e-4, filter_bandwidth_nm=-1.0), "filter_bandwidth_nm"),
        (lambda: BackgroundSpec(fov_full_angle_rad=1e-4, receiver_efficiency=1.5), "receiver_efficiency"),
        (lambda: BackgroundSpec(sky="twilight", fov_full_angle_rad=1e-4), "sky"),
        (lambda: BackgroundSpec(click_probability=1.2), "click_probability"),
        (lambda: sky_radiance_w_m2_sr_nm("night", 1100e-9), "wavelength_m"),
        (lambda: noisy_qber(0.1, 0.2, 0.01), "noise_yield"),
        (lambda: noisy_qber(0.0, 0.0, 0.01), "total_yield"),
        (lambda: noisy_qber(0.1, 0.01, -0.01), "intrinsic_error"),
        (lambda: accidental_fraction(0.0, 0.0), "signal_probability"),
    ],
)
def test_bad_inputs_raise_input_error(call, field: str) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert info.value.field == field


def test_twilight_sky_states_and_radiance() -> None:
    """Twilight: day above 0 deg, civil/nautical/astronomical bands of 6 deg, night at or below -18 deg;
    the radiance falls log-linearly by the ~7 decades between day and night (INT measurements)."""
    from qrate.channels.background import sky_state, twilight_radiance_w_m2_sr_nm

    states = [sky_state(h) for h in (10.0, 0.0, -5.9, -6.0, -11.0, -12.5, -18.0, -40.0)]
    assert states == [
        "day",
        "civil_twilight",
        "civil_twilight",
        "nautical_twilight",
        "nautical_twilight",
        "astronomical_twilight",
        "night",
        "night",
    ]
    lam = 810e-9
    day, night = sky_radiance_w_m2_sr_nm("day", lam), sky_radiance_w_m2_sr_nm("night", lam)
    assert 1e6 < day / night < 1e8  # "a factor ~1e7 between day and astronomical night"
    assert twilight_radiance_w_m2_sr_nm(0.0, lam) == pytest.approx(day, rel=1e-12)
    assert twilight_radiance_w_m2_sr_nm(-18.0, lam) == pytest.approx(night, rel=1e-12)
    assert twilight_radiance_w_m2_sr_nm(-9.0, lam) == pytest.approx(math.sqrt(day * night), rel=1e-12)
    # civil twilight is orders of magnitude above the moonlit night that sky = "auto" used to assume
    assert twilight_radiance_w_m2_sr_nm(-3.0, lam) > 1e4 * sky_radiance_w_m2_sr_nm("moonlit", lam)
    assert sky_radiance_w_m2_sr_nm("nautical_twilight", lam) == twilight_radiance_w_m2_sr_nm(-9.0, lam)


def test_auto_sky_follows_the_sun_through_twilight() -> None:
    from qrate.scenario import load_scenario

    link = load_scenario("micius-2020-qkd").links["micius"].link  # sky = "auto", 810 nm
    p = [link.background_click_probability(h, 0.5) for h in (-30.0, -15.0, -9.0, -3.0, 5.0)]
    assert p == sorted(p) and p[0] > 0.0
    assert p[3] / p[0] > 1e4  # civil twilight: orders of magnitude above night
    assert link.background_click_probability(None, 0.5) == p[0]  # no Sun: night
