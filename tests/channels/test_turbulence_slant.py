"""Slant-path turbulence: HV-5/7 published values, path integrals vs an independent trapezoid rule,
uniform-path textbook constants, aperture averaging vs a direct double integral, log-normal fading."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special

from qrate.channels import turbulence as turb
from qrate.channels.turbulence import (
    HV57,
    ConstantCn2,
    HufnagelValley,
    aperture_averaged_scintillation_index,
    beam_wander_variance_m2,
    fried_parameter_m,
    isoplanatic_angle_rad,
    lognormal_fading,
    long_term_beam_radius_m,
    rytov_variance,
    scintillation_index,
    slant_beam_wander_variance_m2,
    slant_turbulence,
)
from qrate.errors import InputError
from qrate.geometry import midpoint_geometry

SEED = 20260301


def hv_reference(h: np.ndarray, a: float = 1.7e-14, v: float = 21.0) -> np.ndarray:
    """HV profile written out again for the independent integrals."""
    return (
        0.00594 * (v / 27.0) ** 2 * (1e-5 * h) ** 10 * np.exp(-h / 1000.0)
        + 2.7e-16 * np.exp(-h / 1500.0)
        + a * np.exp(-h / 100.0)
    )


def trapezoid_path(weight, h0: float, h_top: float, a: float = 1.7e-14, v: float = 21.0) -> float:
    """Trapezoid rule on a grid geometric in h - h0 (fine near the station), 4e5 points, up to min(H, 80 km)."""
    upper = min(h_top, 80000.0)
    x = np.concatenate([[0.0], np.geomspace(1e-4, upper - h0, 400_000)])
    h = h0 + x
    return float(integrate.trapezoid(hv_reference(h, a, v) * weight(h), h))


def test_hv57_reproduces_published_r0_and_isoplanatic_angle() -> None:
    # Sasiela (1994): HV-5/7 gives r0 = 4.96 cm and theta0 = 6.90 urad at 0.5 um, zenith
    assert fried_parameter_m(0.5e-6, 0.0) == pytest.approx(0.0496, abs=5e-5)
    assert isoplanatic_angle_rad(0.5e-6, 0.0) == pytest.approx(6.90e-6, abs=5e-9)
    # r0 scales as lambda^(6/5) sec(zeta)^(-3/5)
    r0 = fried_parameter_m(0.5e-6, 0.0)
    assert fried_parameter_m(1.0e-6, math.radians(60.0)) == pytest.approx(r0 * 2.0**1.2 * 2.0**-0.6, rel=1e-9)


CASES = [
    # zenith deg, station altitude m, platform altitude m, wavelength
    (0.0, 0.0, math.inf, 810e-9),
    (60.0, 0.0, 5.0e5, 1550e-9),
    (30.0, 500.0, 3.0e4, 850e-9),
    (45.0, 0.0, 2.0e4, 1550e-9),
]


@pytest.mark.parametrize(("zenith_deg", "h0", "h_top", "lam"), CASES)
def test_path_integrals_match_independent_trapezoid(zenith_deg: float, h0: float, h_top: float, lam: float) -> None:
    zeta = math.radians(zenith_deg)
    sec = 1.0 / math.cos(zeta)
    k = 2 * math.pi / lam
    path = {"station_altitude_m": h0, "platform_altitude_m": h_top}
    mu0 = trapezoid_path(lambda h: np.ones_like(h), h0, h_top)
    assert fried_parameter_m(lam, zeta, **path) == pytest.approx((0.423 * k * k * sec * mu0) ** -0.6, rel=1e-6)
    mu53 = trapezoid_path(lambda h: (h - h0) ** (5 / 3), h0, h_top)
    assert isoplanatic_angle_rad(lam, zeta, **path) == pytest.approx((2.91 * k * k * sec ** (8 / 3) * mu53) ** -0.6, rel=1e-6)
    mu56 = trapezoid_path(lambda h: (h - h0) ** (5 / 6), h0, h_top)
    assert rytov_variance(lam, zeta, **path) == pytest.approx(2.25 * k ** (7 / 6) * sec ** (11 / 6) * mu56, rel=1e-6)
    mu2 = trapezoid_path(lambda h: (h - h0) ** 2, h0, h_top)
    w0 = 0.05
    assert slant_beam_wander_variance_m2(zeta, w0, **path) == pytest.approx(0.5 * 7.25 * sec**3 * w0 ** (-1 / 3) * mu2, rel=1e-6)
    if math.isfinite(h_top):
        span = h_top - h0
        sph = trapezoid_path(lambda h: ((h - h0) * (h_top - h) / span) ** (5 / 6), h0, h_top)
        expected = 2.25 * k ** (7 / 6) * sec ** (11 / 6) * sph
        assert rytov_variance(lam, zeta, wave="spherical", **path) == pytest.approx(expected, rel=1e-6)
        mu2d = trapezoid_path(lambda h: ((h - h0) / span) ** (5 / 3), h0, h_top)
        w = 3.0
        lam_fresnel = 2 * span * sec / (k * w * w)
        expected_w = w * math.sqrt(1 + 4.35 * mu2d * lam_fresnel ** (5 / 6) * k ** (7 / 6) * span ** (5 / 6) * sec ** (11 / 6))
        assert long_term_beam_radius_m(lam, zeta, w, **path) == pytest.approx(expected_w, rel=1e-9)


def test_uniform_path_reduces_to_textbook_constant_cn2_formulas() -> None:
    cn2, length, lam, w0 = 3e-15, 8000.0, 1550e-9, 0.1
    k = 2 * math.pi / lam
    p = {"profile": ConstantCn2(cn2, length), "platform_altitude_m": length}
    assert rytov_variance(lam, 0.0, **p) == pytest.approx(1.2272727 * cn2 * k ** (7 / 6) * length ** (11 / 6), rel=1e-6)
    beta = 2.25 * special.beta(11 / 6, 11 / 6)  # 0.4962, the "0.5" of the spherical-wave Rytov variance
    assert rytov_variance(lam, 0.0, wave="spherical", **p) == pytest.approx(
        beta * cn2 * k ** (7 / 6) * length ** (11 / 6), rel=1e-6
    )
    assert fried_parameter_m(lam, 0.0, **p) == pytest.approx((0.423 * k * k * cn2 * length) ** -0.6, rel=1e-9)
    # Andrews & Phillips horizontal collimated beam: <r_c^2> = 2.42 C_n^2 L^3 W0^(-1/3) (radial)
    radial = 2.0 * slant_beam_wander_variance_m2(0.0, w0, **p)
    assert radial == pytest.approx(7.25 / 3.0 * cn2 * length**3 * w0 ** (-1 / 3), rel=1e-9)


def test_uav_slant_wander_is_centimetres_not_metres() -> None:
    # 30 km UAV, ground C_n^2 = 1e-14: the HV profile gives cm; a constant C_n^2 gives metres
    profile = HufnagelValley(ground_cn2=1e-14)
    w0 = 1550e-9 / (math.pi * 1e-6)  # Khan Table I: theta = 1 urad, W0 = 0.49 m
    zenith_rms = math.sqrt(2 * slant_beam_wander_variance_m2(0.0, w0, profile=profile, platform_altitude_m=3e4))
    assert 0.005 < zenith_rms < 0.05
    geo = midpoint_geometry(30.0, 200.0)  # 104.6 km slant range, zenith 73.8 deg
    slant = math.sqrt(slant_beam_wander_variance_m2(geo.zenith_rad, w0, profile=profile, platform_altitude_m=3e4))
    constant = math.sqrt(beam_wander_variance_m2(1e-15, 1e3 * geo.slant_range_km, 1e-6, w0, "full"))
    assert slant < 0.1
    assert constant > 1.0  # 1.5 m per axis even at C_n^2 = 1e-15


def test_scintillation_index_weak_and_saturated_limits() -> None:
    for wave in ("plane", "spherical"):
        assert scintillation_index(1e-4, wave=wave) == pytest.approx(1e-4, rel=2e-3)
        assert scintillation_index(1e8, wave=wave) == pytest.approx(1.0, abs=0.01)
        assert scintillation_index(0.0, wave=wave) == 0.0
    # the plane-wave form peaks above 1 in the focusing regime (sigma_R^2 of a few)
    s = np.array([scintillation_index(x) for x in (0.5, 1.0, 3.0, 10.0)])
    assert s.max() > 1.0


def weak_aperture_double_integral(cn2: float, length: float, lam: float, diameter: float, wave: str) -> float:
    """8 pi^2 k^2 int dz int kappa Phi_n exp(-kappa^2 D^2 xi^2/16)(1 - cos(kappa^2 x/k)) dkappa, numerically
    over kappa (as q = kappa^2) and z; Phi_n = 0.033 C_n^2 kappa^(-11/3), z measured from the source.

    Near a point source (xi < 1e-3) the aperture filter is irrelevant (the pattern is magnified 1/xi
    times) and the inner integral is b^(5/6) c0, with c0 = int q^(-11/6) sin^2(q/2) dq done by QAWF.
    """
    k = 2 * math.pi / lam
    c0 = integrate.quad(lambda q: q ** (-11 / 6) * math.sin(0.5 * q) ** 2, 0.0, 1.0, epsrel=1e-12)[0]
    c0 += 0.5 * (6 / 5) - 0.5 * integrate.quad(lambda q: q ** (-11 / 6), 1.0, np.inf, weight="cos", wvar=1.0)[0]

    def inner(z: float) -> float:
        xi = z / length if wave == "spherical" else 1.0
        b = (length - z) * xi / k
        if xi < 1e-3 or diameter == 0.0:
            return b ** (5 / 6) * c0
        a = diameter**2 * xi * xi / 16.0
        f = lambda q: q ** (-11 / 6) * math.exp(-a * q) * math.sin(0.5 * b * q) ** 2
        return integrate.quad(f, 0.0, 60.0 / a, limit=4000, epsrel=1e-10, epsabs=0.0)[0]

    points = [1e-3 * length] if wave == "spherical" else None
    outer = integrate.quad(inner, 0.0, length, limit=400, epsrel=1e-9, points=points)[0]
    return 8 * math.pi**2 * k * k * 0.033 * cn2 * outer


@pytest.mark.parametrize("wave", ["plane", "spherical"])
def test_weak_aperture_averaging_matches_direct_double_integral(wave: str) -> None:
    cn2, length, lam, radius = 1e-19, 5000.0, 1550e-9, 0.15  # sigma_R^2 ~ 1e-5: weak
    p = {"profile": ConstantCn2(cn2, length), "platform_altitude_m": length, "wave": wave}
    expected = weak_aperture_double_integral(cn2, length, lam, 2 * radius, wave)
    point = weak_aperture_double_integral(cn2, length, lam, 0.0, wave)
    got = aperture_averaged_scintillation_index(lam, 0.0, radius, **p)
    got_point = aperture_averaged_scintillation_index(lam, 0.0, 0.0, **p)
    # the averaging factor is exact; the absolute level carries the rounded Rytov coefficient 2.25 (exact 2.2523)
    assert got / got_point == pytest.approx(expected / point, rel=2e-4)
    assert got == pytest.approx(expected, rel=2e-3)
    assert got_point == pytest.approx(rytov_variance(lam, 0.0, **p), rel=1e-4)


def test_plane_wave_averaging_factor_close_to_classic_fit() -> None:
    cn2, length, lam = 1e-19, 5000.0, 1550e-9
    k = 2 * math.pi / lam
    p = {"profile": ConstantCn2(cn2, length), "platform_altitude_m": length}
    point = aperture_averaged_scintillation_index(lam, 0.0, 0.0, **p)
    assert point == pytest.approx(rytov_variance(lam, 0.0, **p), rel=1e-4)
    for d2 in (1.0, 5.0, 30.0, 100.0):
        radius = 0.5 * math.sqrt(d2 * 4 * length / k)
        ratio = aperture_averaged_scintillation_index(lam, 0.0, radius, **p) / point
        assert ratio == pytest.approx((1 + 1.062 * d2) ** (-7 / 6), rel=0.12)


def test_large_telescope_averages_away_leo_scintillation() -> None:
    point = scintillation_index(rytov_variance(810e-9, 0.0))
    averaged = aperture_averaged_scintillation_index(810e-9, 0.0, 0.6)
    assert 0.10 < point < 0.16
    assert averaged / point < 2e-3
    # strong-ish turbulence (zeta = 70 deg): still monotone in the aperture
    values = [aperture_averaged_scintillation_index(810e-9, math.radians(70), a) for a in (0.0, 0.02, 0.1, 0.5)]
    assert all(x > y for x, y in zip(values, values[1:]))


def test_long_term_broadening_is_negligible_for_a_leo_downlink() -> None:
    w = 6.45  # 10 urad at 645 km
    w_lt = long_term_beam_radius_m(850e-9, 0.0, w, platform_altitude_m=5e5)
    assert 0.0 < w_lt / w - 1.0 < 1e-4


def test_slant_turbulence_summary_agrees_with_the_functions() -> None:
    args = {"profile": HV57, "platform_altitude_m": 3e4, "station_altitude_m": 0.0}
    summary = slant_turbulence(
        wavelength_m=1550e-9, zenith_rad=0.5, waist_m=0.05, beam_radius_m=0.3, aperture_radius_m=0.15, wave="spherical", **args
    )
    assert summary.rytov_variance == rytov_variance(1550e-9, 0.5, wave="spherical", **args)
    assert summary.scintillation_index == scintillation_index(summary.rytov_variance, wave="spherical")
    assert summary.aperture_averaged_scintillation_index < summary.scintillation_index
    assert summary.beam_wander_variance_m2 == slant_beam_wander_variance_m2(0.5, 0.05, **args)


@pytest.mark.statistical
def test_lognormal_fading_has_mean_one_and_the_requested_variance() -> None:
    rng = np.random.default_rng(np.random.SeedSequence(SEED))
    var = 0.3
    x = lognormal_fading(var, 400_000, rng)
    n = x.size
    assert abs(x.mean() - 1.0) < 5 * x.std() / math.sqrt(n)
    dev2 = (x - x.mean()) ** 2
    assert abs(dev2.mean() - var) < 5 * dev2.std() / math.sqrt(n)
    np.testing.assert_array_equal(lognormal_fading(0.0, 5, rng), np.ones(5))


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: fried_parameter_m(-1e-6, 0.0), "wavelength_m"),
        (lambda: fried_parameter_m(1e-6, math.pi / 2), "zenith_rad"),
        (lambda: rytov_variance(1e-6, 0.1, wave="spherical"), "platform_altitude_m"),
        (lambda: rytov_variance(1e-6, 0.1, wave="cylindrical"), "wave"),
        (lambda: rytov_variance(1e-6, 0.1, station_altitude_m=100.0, platform_altitude_m=50.0), "platform_altitude_m"),
        (lambda: HufnagelValley(ground_cn2=-1e-14), "ground_cn2"),
        (lambda: ConstantCn2(1e-14, 0.0), "thickness_m"),
        (lambda: scintillation_index(-0.1), "rytov_variance"),
        (lambda: slant_beam_wander_variance_m2(0.1, 0.0), "waist_m"),
        (lambda: aperture_averaged_scintillation_index(1e-6, 0.1, -0.5), "aperture_radius_m"),
        (lambda: lognormal_fading(-0.2, 10, np.random.default_rng()), "scintillation_index"),
        (lambda: lognormal_fading(0.2, 10, 7), "rng"),
        (lambda: turb.path_integral(lambda h: 1.0, profile="hv57"), "profile"),  # type: ignore[arg-type]
    ],
)
def test_bad_inputs_raise_input_error_naming_the_field(call, field: str) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert info.value.field == field


def test_profiles_evaluate_vectorised() -> None:
    h = np.array([0.0, 100.0, 10000.0])
    np.testing.assert_allclose(HV57.cn2_at(h), hv_reference(h), rtol=1e-15)
    assert HV57.cn2_at(0.0) == pytest.approx(1.7e-14 + 2.7e-16)
    np.testing.assert_array_equal(ConstantCn2(1e-15, 10.0).cn2_at(np.array([5.0, 20.0])), [1e-15, 0.0])
