"""WGS84 geodetic <-> ECEF and topocentric look angles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qrate.errors import InputError
from qrate.orbit import FixedPlatform, Station, ecef_to_geodetic, geodetic_to_ecef_km, look_angles_ecef
from qrate.orbit.stations import WGS84_A_KM, WGS84_B_KM


def test_ecef_reference_points() -> None:
    np.testing.assert_allclose(geodetic_to_ecef_km(0.0, 0.0, 0.0), [WGS84_A_KM, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(geodetic_to_ecef_km(0.0, 90.0, 1000.0), [0.0, WGS84_A_KM + 1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(geodetic_to_ecef_km(90.0, 0.0, 0.0), [0.0, 0.0, WGS84_B_KM], atol=1e-9)
    np.testing.assert_allclose(geodetic_to_ecef_km(-90.0, 0.0, 500.0), [0.0, 0.0, -WGS84_B_KM - 0.5], atol=1e-9)
    # N(45 deg) = a / sqrt(1 - e^2/2): x = y-free check of the formula at 45 N
    e2 = 6.69437999014e-3
    n = WGS84_A_KM / math.sqrt(1 - e2 / 2)
    np.testing.assert_allclose(
        geodetic_to_ecef_km(45.0, 0.0, 0.0), [n / math.sqrt(2), 0.0, n * (1 - e2) / math.sqrt(2)], rtol=1e-11
    )


def test_geodetic_round_trip() -> None:
    rng = np.random.default_rng(1)
    lat = np.concatenate([rng.uniform(-90, 90, 2000), [90.0, -90.0, 0.0, 89.9999, -45.0]])
    lon = np.concatenate([rng.uniform(-180, 180, 2000), [0.0, 10.0, 180.0, -170.0, 45.0]])
    alt = np.concatenate([rng.uniform(-500, 4e7, 2000), [0.0, 100.0, 35_786_000.0, 500_000.0, 0.0]])
    lat2, lon2, alt2 = ecef_to_geodetic(geodetic_to_ecef_km(lat, lon, alt))
    np.testing.assert_allclose(lat2, lat, atol=1e-9)
    away_from_pole = np.abs(lat) < 89.99
    dlon = (lon2 - lon + 180.0) % 360.0 - 180.0
    np.testing.assert_allclose(dlon[away_from_pole], 0.0, atol=1e-9)
    np.testing.assert_allclose(alt2, alt, atol=1e-4)  # 0.1 mm


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"latitude_deg": 90.5}, "latitude_deg"),
        ({"latitude_deg": -95.0}, "latitude_deg"),
        ({"latitude_deg": float("nan")}, "latitude_deg"),
        ({"longitude_deg": 400.0}, "longitude_deg"),
        ({"longitude_deg": "east"}, "longitude_deg"),
        ({"altitude_m": 1e6}, "altitude_m"),
        ({"altitude_m": float("inf")}, "altitude_m"),
        ({"name": " "}, "name"),
    ],
)
def test_station_validation_names_the_field(kwargs: dict, field: str) -> None:
    args = {"name": "GS", "latitude_deg": 40.0, "longitude_deg": 117.0, "altitude_m": 0.0, **kwargs}
    with pytest.raises(InputError) as info:
        Station(**args)
    assert info.value.field == field


def test_fixed_platform_overhead_is_zenith_at_its_height() -> None:
    gs = Station("GS", 40.39587, 117.57746, 890.0)
    uav = FixedPlatform(40.39587, 117.57746, 30_890.0)
    look = look_angles_ecef([gs], uav.ecef_km(np.array(["2020-01-01T00:00"], dtype="datetime64[ns]")))
    assert look.range_km[0, 0] == pytest.approx(30.0, abs=1e-9)
    assert look.elevation_deg[0, 0] == pytest.approx(90.0, abs=1e-9)


def test_look_angles_along_the_local_axes() -> None:
    gs = Station("GS", 30.0, 45.0, 100.0)
    east, north, up = gs.enu_basis
    origin = gs.ecef_km
    points = np.array(
        [origin + 100 * east, origin + 100 * north, origin - 100 * east, origin + 50 * north + 50 * up, origin - 10 * up]
    )
    look = look_angles_ecef([gs, gs], points)
    assert look.range_km.shape == (2, 5)
    np.testing.assert_allclose(look.range_km[0], [100, 100, 100, 50 * math.sqrt(2), 10], rtol=1e-12)
    np.testing.assert_allclose(look.elevation_deg[0], [0, 0, 0, 45, -90], atol=1e-9)
    assert np.all((look.azimuth_deg >= 0) & (look.azimuth_deg < 360))
    np.testing.assert_allclose((look.azimuth_deg[0, :4] - [90, 0, 270, 0] + 180) % 360 - 180, 0, atol=1e-9)
    np.testing.assert_array_equal(look.elevation_deg[0], look.elevation_deg[1])
