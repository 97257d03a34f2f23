"""Beam, turbulence, atmosphere and the Vasylyev parameters (PHYSICS.md §1.2, §3)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from qrate.channels.atmosphere import AIRMASS_SWITCH_DEG, air_mass, atmospheric_transmittance
from qrate.channels.beam import exact_efficiency, exact_efficiency_slope, exact_table, vasylyev_parameters
from qrate.channels.freespace import FreeSpaceLink, link_budget
from qrate.geometry import midpoint_geometry, platform_geometry


def test_netsquid_vector_fixed_satellite() -> None:
    """FixedSatellite(txDiv=10e-6, sigma_p=1e-6, a=0.75, Cn2=1e-14, 1550 nm, L=1000 km)."""
    link = FreeSpaceLink(10e-6, 1e-6, 0.75, beam="far_field", cn2=1e-14, turbulence_path="last_10km")
    b = link_budget(link, platform_geometry(1000.0, 0.0))
    assert b.weibull_k == pytest.approx(0.9999999406747881, abs=1e-9)
    assert b.weibull_scale_l == pytest.approx(0.04005756947583463, abs=1e-9)
    assert math.sqrt(b.eta0) == pytest.approx(0.10576840449192237, abs=1e-9)


def test_netsquid_vector_free_space() -> None:
    """FreeSpace(W0=0.1, a=0.2, Cn2=1e-14, L=10 km); W0 = lambda/(pi theta) fixes theta."""
    theta = 1.55e-6 / (math.pi * 0.1)
    b = link_budget(FreeSpaceLink(theta, 0.0, 0.2, cn2=1e-14), platform_geometry(10.0, 0.0))
    assert b.weibull_k == pytest.approx(0.5183654627815495, abs=1e-9)
    assert b.weibull_scale_l == pytest.approx(2.107171368616519, abs=1e-9)
    assert math.sqrt(b.eta0) == pytest.approx(0.9991965469553676, abs=1e-9)


@pytest.mark.parametrize(("d_km", "w_gauss", "w_far", "sigma"), [(0, 2.2522, 2.2500, 0.2250), (1000, 3.4293, 3.4279, 0.3428), (2000, 5.6377, 5.6368, 0.5637)])
def test_leo_beam_table(d_km: float, w_gauss: float, w_far: float, sigma: float) -> None:
    geo = midpoint_geometry(450.0, d_km)
    g = link_budget(FreeSpaceLink(5e-6, 5e-7, 3.0), geo)
    f = link_budget(FreeSpaceLink(5e-6, 5e-7, 3.0, beam="far_field"), geo)
    assert g.beam_radius_m == pytest.approx(w_gauss, abs=6e-5)
    assert f.beam_radius_m == pytest.approx(w_far, abs=6e-5)
    assert f.sigma_m == pytest.approx(sigma, abs=6e-5)
    assert f.eta0 == pytest.approx(1 - math.exp(-2 * 9 / f.beam_radius_m**2), rel=1e-14)


def test_uav_near_field_and_turbulence() -> None:
    theta, lam, cn2 = 1e-6, 1.55e-6, 1e-15
    geo = midpoint_geometry(30.0, 200.0)
    b = link_budget(FreeSpaceLink(theta, 5e-7, 1.5, cn2=cn2), geo)
    z = geo.slant_range_km * 1e3
    w0 = lam / (math.pi * theta)
    assert w0 == pytest.approx(0.4934, abs=1e-4)
    assert b.beam_radius_m == pytest.approx(w0 * math.sqrt(1 + (z * lam / (math.pi * w0**2)) ** 2), rel=1e-12)
    assert b.sigma_m == pytest.approx(math.sqrt((5e-7 * z) ** 2 + 1.919 * cn2 * z**3 * (2 * w0) ** (-1 / 3)), rel=1e-12)


def test_vasylyev_small_aperture_limit() -> None:
    """a << W: lambda -> 2, R -> W / sqrt(2)."""
    shape, scale = vasylyev_parameters(1e-3, 1.0)
    assert shape == pytest.approx(2.0, rel=1e-5)
    assert scale == pytest.approx(1 / math.sqrt(2), rel=1e-5)


def test_vasylyev_large_aperture_no_overflow() -> None:
    """a >> W would overflow without exponentially scaled Bessels; R -> a."""
    shape, scale = vasylyev_parameters(3.0, 0.49)
    assert 10 < shape < 20
    assert scale == pytest.approx(3.0, rel=0.05)
    shape, scale = vasylyev_parameters(3.0, 0.03)
    assert math.isfinite(shape) and scale == pytest.approx(3.0, rel=0.01)


def _eta_by_quadrature(r: float, a: float, w: float) -> float:
    """(4/W^2) int_0^a rho exp(-2(rho^2 + r^2)/W^2) I0(4 rho r/W^2) d rho, with i0e for stability."""
    f = lambda rho: 4 / w**2 * rho * math.exp(-2 * (rho - r) ** 2 / w**2) * special.i0e(4 * rho * r / w**2)  # noqa: E731
    return integrate.quad(f, 0.0, a, epsabs=1e-14, epsrel=1e-12, limit=200)[0]


@pytest.mark.parametrize(("r", "a", "w"), [(0.0, 3.0, 2.25), (0.5, 3.0, 2.25), (3.0, 3.0, 3.43), (6.0, 1.0, 2.0), (0.3, 1.5, 0.49)])
def test_exact_efficiency_is_the_overlap_integral(r: float, a: float, w: float) -> None:
    assert float(exact_efficiency(r / w, a / w)) == pytest.approx(_eta_by_quadrature(r, a, w), abs=1e-11)


def test_exact_efficiency_slope_by_finite_difference() -> None:
    b, h = 1.33, 1e-6
    u = np.linspace(0.01, 4.0, 40)
    fd = (exact_efficiency(u + h, b) - exact_efficiency(u - h, b)) / (2 * h)
    np.testing.assert_allclose(exact_efficiency_slope(u, b), fd, atol=1e-8)


@pytest.mark.parametrize("b", [1e-3, 0.3, 1.3333, 6.07, 100.0])
def test_exact_table_vs_ncx2(b: float) -> None:
    """Interpolation error of the tabulated eta(u) = ncx2.cdf((2b)^2, 2, (2u)^2) stays below 1e-11."""
    table = exact_table(b)
    u = np.random.default_rng(7).uniform(max(0.0, b - 9), b + 9, 50_000)
    expected = stats.ncx2.cdf(4 * b * b, 2, 4 * u * u)
    assert np.max(np.abs(table(u) - expected)) < 1e-11
    assert table.values.flags.writeable is False


@pytest.mark.parametrize("zenith_deg", [0.0, 30.0, 60.0, 70.0])
def test_air_mass_plane_parallel(zenith_deg: float) -> None:
    z = math.radians(zenith_deg)
    assert air_mass(z) == pytest.approx(1 / math.cos(z), rel=1e-14)
    assert atmospheric_transmittance(0.8, z) == pytest.approx(0.8 ** (1 / math.cos(z)), rel=1e-14)


@pytest.mark.parametrize("zenith_deg", [70.5, 80.0, 89.0, 90.0])
def test_air_mass_kasten_young(zenith_deg: float) -> None:
    z = math.radians(zenith_deg)
    expected = 1 / (math.cos(z) + 0.50572 * (96.07995 - zenith_deg) ** -1.6364)
    assert zenith_deg > AIRMASS_SWITCH_DEG
    assert air_mass(z) == pytest.approx(expected, rel=1e-14)
    assert air_mass(z) < 40.0  # finite at the horizon (~38), unlike sec(zeta)


def test_t_atm_in_budget() -> None:
    geo = midpoint_geometry(450.0, 2000.0)  # zenith 71 deg: Kasten-Young branch
    b = link_budget(FreeSpaceLink(5e-6, 5e-7, 3.0, t_atm_zenith=0.9), geo)
    assert b.t_atm == pytest.approx(0.9 ** air_mass(geo.zenith_rad), rel=1e-14)
    assert link_budget(FreeSpaceLink(5e-6, 5e-7, 3.0), geo).t_atm == 1.0
