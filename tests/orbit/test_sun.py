"""Analytic Sun: solar-noon elevations at solstices and equinoxes, the pole, the obliquity."""

from __future__ import annotations

import numpy as np
import pytest

from qrate.orbit import sun_elevation_deg, sun_ra_dec_deg


def _day(date: str, step_s: int = 10) -> np.ndarray:
    return np.datetime64(date, "ns") + np.arange(0, 86400, step_s).astype("timedelta64[s]")


@pytest.mark.parametrize(
    ("date", "longitude_deg", "declination_deg"),
    [
        ("2021-06-21", 0.0, 23.44),  # June solstice 2021-06-21T03:32Z: declination = obliquity
        ("2021-12-21", -120.0, -23.44),  # December solstice 2021-12-21T15:59Z
        ("2021-03-20", 36.0, 0.0),  # March equinox 09:37Z; local noon at 36 E is within ~15 min of it
        ("2022-09-23", -15.0, -0.19),  # September equinox 01:04Z; noon at 15 W is 12 h later: 0.39 deg/day x 0.5 day
    ],
)
@pytest.mark.parametrize("latitude_deg", [-60.0, -30.0, 0.0, 40.39587, 52.0, 66.0])
def test_noon_elevation_is_90_minus_latitude_offset(
    date: str, longitude_deg: float, declination_deg: float, latitude_deg: float
) -> None:
    """Highest Sun of the day = 90 - |phi - delta| within 0.1 deg (10 s sampling costs < 0.002 deg)."""
    h = sun_elevation_deg(latitude_deg, longitude_deg, _day(date))
    assert h.max() == pytest.approx(90.0 - abs(latitude_deg - declination_deg), abs=0.1)


def test_solstice_declination_and_pole_identity() -> None:
    _, dec = sun_ra_dec_deg("2021-06-21T03:32")
    assert dec[0] == pytest.approx(23.4366, abs=0.01)
    ra, _ = sun_ra_dec_deg(["2021-03-20T09:37", "2021-06-21T03:32", "2021-09-22T19:21"])
    np.testing.assert_allclose(ra, [0.0, 90.0, 180.0], atol=0.02)
    # at the pole the Sun's elevation is its declination at every hour
    t = _day("2021-05-01", 3600)
    _, dec = sun_ra_dec_deg(t)
    np.testing.assert_allclose(sun_elevation_deg(90.0, 33.0, t), dec, atol=1e-9)
    np.testing.assert_allclose(sun_elevation_deg(-90.0, 0.0, t), -dec, atol=1e-9)


def test_broadcast_over_places() -> None:
    t = _day("2021-06-21", 600)
    lat = np.array([[0.0], [45.0], [-45.0]])
    lon = np.array([[0.0], [90.0], [-90.0]])
    grid = sun_elevation_deg(lat, lon, t)
    assert grid.shape == (3, t.size)
    np.testing.assert_allclose(grid[1], sun_elevation_deg(45.0, 90.0, t))
    # midnight in Greenwich at the June solstice: the Sun is well below the horizon at 45 N, 0 E
    assert sun_elevation_deg(45.0, 0.0, "2021-06-21T00:00")[0] == pytest.approx(-(90 - 45 - 23.44), abs=0.5)
