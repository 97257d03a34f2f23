"""Geometry against the closed forms of PHYSICS.md §2 (written out here, not imported)."""

from __future__ import annotations

import math

import pytest
from scipy.optimize import brentq

from qrate.errors import BelowHorizonError, InputError
from qrate.geometry import (
    EARTH_RADIUS_KM,
    ground_distance_at_elevation_km,
    horizon_ground_distance_km,
    midpoint_geometry,
    platform_geometry,
)

R = 6371.0


def closed_form(h: float, d: float) -> tuple[float, float]:
    """Slant range (km) and elevation (rad) from the cosine-rule forms of PHYSICS.md §2."""
    alpha = d / (2 * R)
    slant = math.sqrt(R**2 + (R + h) ** 2 - 2 * R * (R + h) * math.cos(alpha))
    elev = math.asin(((R + h) * math.cos(alpha) - R) / slant)
    return slant, elev


GRID = [(450.0, d) for d in (0, 200, 500, 1000, 1500, 2000, 4000)] + [(30.0, d) for d in (0, 20, 50, 100, 200, 1000)]

# PHYSICS.md §2 table: (H, D) -> (L km, elevation deg), 3 decimals
TABLE = {
    (450, 200): (461.742, 76.593),
    (450, 500): (519.043, 58.966),
    (450, 1000): (685.581, 38.738),
    (450, 1500): (896.680, 26.693),
    (450, 2000): (1127.358, 18.953),
    (30, 20): (31.630, 71.480),
    (30, 50): (39.089, 50.016),
    (30, 100): (58.410, 30.679),
    (30, 200): (104.627, 16.212),
}


def test_earth_radius() -> None:
    assert EARTH_RADIUS_KM == 6371.0


@pytest.mark.parametrize(("h", "d"), GRID)
def test_midpoint_matches_cosine_rule(h: float, d: float) -> None:
    g = midpoint_geometry(h, d)
    slant, elev = closed_form(h, d)
    assert g.slant_range_km == pytest.approx(slant, rel=1e-9)
    assert g.elevation_rad == pytest.approx(elev, rel=1e-9, abs=1e-12)
    assert g.zenith_rad == pytest.approx(math.pi / 2 - elev, rel=1e-9, abs=1e-12)
    assert g.elevation_deg == pytest.approx(math.degrees(elev), rel=1e-9, abs=1e-10)
    assert g.zenith_deg + g.elevation_deg == pytest.approx(90.0, abs=1e-12)
    assert g.ground_offset_km == d / 2
    assert g.altitude_km == h


@pytest.mark.parametrize(("key", "expected"), TABLE.items())
def test_physics_table(key: tuple[int, int], expected: tuple[float, float]) -> None:
    g = midpoint_geometry(*key)
    assert g.slant_range_km == pytest.approx(expected[0], abs=6e-4)
    assert g.elevation_deg == pytest.approx(expected[1], abs=6e-4)


@pytest.mark.parametrize(("h", "d"), GRID)
def test_inverse_slant_range_from_zenith(h: float, d: float) -> None:
    """L(zeta) = -R cos(zeta) + sqrt(R^2 cos^2(zeta) + 2RH + H^2) (netsquid-freespace channel.py)."""
    g = midpoint_geometry(h, d)
    cz = math.cos(g.zenith_rad)
    assert g.slant_range_km == pytest.approx(-R * cz + math.sqrt(R**2 * cz**2 + 2 * R * h + h**2), rel=1e-9)


def test_zenith_is_exact_altitude() -> None:
    g = platform_geometry(450.0, 0.0)
    assert g.slant_range_km == 450.0
    assert g.elevation_deg == 90.0
    assert g.zenith_rad == 0.0


def test_platform_geometry_is_half_of_midpoint() -> None:
    assert platform_geometry(450.0, 600.0) == midpoint_geometry(450.0, 1200.0)


@pytest.mark.parametrize(("h", "expected_km"), [(450.0, 4654.0), (30.0, 1234.0)])
def test_horizon_distance(h: float, expected_km: float) -> None:
    d_max = horizon_ground_distance_km(h)
    assert d_max == pytest.approx(2 * R * math.acos(R / (R + h)), rel=1e-14)
    assert d_max == pytest.approx(expected_km, abs=0.5)
    assert midpoint_geometry(h, d_max * (1 - 1e-9)).elevation_rad > 0.0
    with pytest.raises(BelowHorizonError, match="ground_distance_km") as info:
        midpoint_geometry(h, d_max)
    assert f"{d_max:.6g}" in str(info.value)
    with pytest.raises(BelowHorizonError, match="ground_offset_km"):
        platform_geometry(h, d_max)  # the single-station case reaches half as far


@pytest.mark.parametrize(("h", "expected_km"), [(450.0, 1920.0), (30.0, 161.0)])
def test_twenty_degree_crossing(h: float, expected_km: float) -> None:
    crossing = brentq(lambda d: midpoint_geometry(h, d).elevation_deg - 20.0, 1.0, horizon_ground_distance_km(h) - 1)
    assert crossing == pytest.approx(expected_km, abs=0.5)
    assert ground_distance_at_elevation_km(h, 20.0) == pytest.approx(crossing, rel=1e-9)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((-1.0, 10.0), "altitude_km"),
        ((0.0, 10.0), "altitude_km"),
        ((float("nan"), 10.0), "altitude_km"),
        ((450.0, -5.0), "ground_distance_km"),
        ((450.0, float("inf")), "ground_distance_km"),
    ],
)
def test_bad_input(args: tuple[float, float], field: str) -> None:
    with pytest.raises(InputError) as info:
        midpoint_geometry(*args)
    assert info.value.field == field
    assert not isinstance(info.value, BelowHorizonError)
