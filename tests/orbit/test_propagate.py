"""TLE validation and SGP4 propagation (against the sgp4 package's verification vectors), TEME -> ECEF,
circular orbits."""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import pytest

from qrate.errors import InputError
from qrate.orbit import TLE, CircularOrbit, FixedPlatform, check_tle_line, gmst_rad, look_angles, tle_checksum
from qrate.orbit.propagate import J2_EARTH, MU_EARTH_KM3_S2
from qrate.orbit.times import julian_date

from ._data import MICIUS_L1, MICIUS_L2, XINGLONG, micius


def _with_checksum(line: str) -> str:
    return line[:68] + str(tle_checksum(line))


def test_micius_lines_have_valid_checksums() -> None:
    assert tle_checksum(MICIUS_L1) == int(MICIUS_L1[68]) == 3
    assert tle_checksum(MICIUS_L2) == int(MICIUS_L2[68]) == 3
    sat = micius()
    assert sat.satnum == "41731"
    assert str(sat.epoch_utc)[:23] == "2016-12-18T21:38:11.330"
    assert check_tle_line(MICIUS_L1 + "\r\n", 1) == MICIUS_L1


@pytest.mark.parametrize(
    ("line1", "line2", "field", "words"),
    [
        (MICIUS_L1[:68] + "4", MICIUS_L2, "tle.line1", "checksum"),
        (MICIUS_L1, MICIUS_L2[:68] + "0", "tle.line2", "checksum"),
        (MICIUS_L1[:60], MICIUS_L2, "tle.line1", "69 characters"),
        (MICIUS_L1, MICIUS_L2 + " 7", "tle.line2", "69 characters"),
        (MICIUS_L2, MICIUS_L2, "tle.line1", "line number 1"),
        (MICIUS_L1, MICIUS_L1, "tle.line2", "line number 2"),
        (_with_checksum(MICIUS_L1[:8] + "X" + MICIUS_L1[9:]), MICIUS_L2, "tle.line1", "column 9 must be blank"),
        (MICIUS_L1, _with_checksum(MICIUS_L2[:8] + " 9x.3699" + MICIUS_L2[16:]), "tle.line2", "inclination"),
        (MICIUS_L1, _with_checksum(MICIUS_L2[:26] + "001x200" + MICIUS_L2[33:]), "tle.line2", "eccentricity"),
        (MICIUS_L1, _with_checksum(MICIUS_L2[:2] + "41732" + MICIUS_L2[7:]), "tle.line2", "differs from line 1"),
        (MICIUS_L1, _with_checksum(MICIUS_L2[:8] + "197.3699" + MICIUS_L2[16:]), "tle.line2", "[0, 180]"),
        (MICIUS_L1, None, "tle.line2", "string"),
    ],
)
def test_bad_tle_names_the_line(line1: str, line2: str, field: str, words: str) -> None:
    with pytest.raises(InputError) as info:
        TLE(line1, line2)
    assert info.value.field == field
    assert words in info.value.message


def _verification_data() -> tuple[list[tuple[str, str]], dict[str, np.ndarray]]:
    """(line1, line2) pairs of SGP4-VER.TLE and the rows of tcppver.out per catalogue number."""
    pkg = resources.files("sgp4")
    lines = pkg.joinpath("SGP4-VER.TLE").read_text().splitlines()
    tles = [(lines[i], lines[i + 1][:69]) for i in range(len(lines) - 1) if lines[i].startswith("1 ")]
    rows: dict[str, list[list[float]]] = {}
    current = None
    for line in pkg.joinpath("tcppver.out").read_text().splitlines():
        if line.strip().endswith("xx"):
            current = line.split()[0]
            rows[current] = []
        elif line.strip():
            rows[current].append([float(x) for x in line.split()[:7]])
    return tles, {k: np.array(v) for k, v in rows.items()}


def test_sgp4_against_the_verification_vectors() -> None:
    """Every element set of Vallado's SGP4-VER.TLE (shipped with sgp4) against tcppver.out, 1 cm / 1e-8 km/s.

    The three sets 33333-33335 carry wrong checksums in the file (they exercise SGP4's error paths) and
    must be rejected by the validator; all others are propagated through qrate's datetime64 API.
    """
    tles, expected = _verification_data()
    checked = 0
    for line1, line2 in tles:
        satnum = line1[2:7].strip()
        if satnum in ("33333", "33334", "33335"):
            with pytest.raises(InputError, match="checksum"):
                TLE(line1, line2)
            continue
        sat = TLE(line1, line2)
        rows = expected[str(int(satnum))]
        t = sat.epoch_utc + np.rint(rows[:, 0] * 60e9).astype("timedelta64[ns]")
        r, v = sat.teme_km(t)
        np.testing.assert_allclose(r[0], rows[:, 1:4], rtol=0, atol=1e-5, err_msg=satnum)
        np.testing.assert_allclose(v[0], rows[:, 4:7], rtol=0, atol=1e-8, err_msg=satnum)
        checked += len(rows)
    assert len(tles) == 33 and checked > 500


def test_decayed_satellite_is_an_input_error() -> None:
    tles, _ = _verification_data()
    (pair,) = [p for p in tles if p[0][2:7] == "28872"]  # decays about 55 min after its epoch
    sat = TLE(*pair)
    sat.teme_km(sat.epoch_utc)
    with pytest.raises(InputError) as info:
        sat.teme_km(sat.epoch_utc + np.arange(0, 7200, 60).astype("timedelta64[s]"))
    assert info.value.field == "tle" and "decayed" in info.value.message


def test_teme_to_ecef_matches_skyfield() -> None:
    sgp4lib = pytest.importorskip("skyfield.sgp4lib")
    sat = micius()
    t = np.datetime64("2016-12-19T16:45") + np.arange(0, 86400, 997).astype("timedelta64[s]")
    jd, fr = julian_date(t)
    r_teme, v_teme = sat.teme_km(t)
    r_sky, _ = sgp4lib.TEME_to_ITRF(jd, r_teme[0].T, v_teme[0].T, fraction_ut1=fr)  # same UT1 = UTC
    np.testing.assert_allclose(sat.ecef_km(t), r_sky.T, rtol=0, atol=1e-6)
    theta_sky = sgp4lib.theta_GMST1982(jd, fr)[0]
    np.testing.assert_allclose(np.angle(np.exp(1j * (gmst_rad(t) - theta_sky))), 0.0, atol=1e-12)


def test_topocentric_pipeline_matches_skyfield() -> None:
    """skyfield uses UT1 from its bundled IERS table (no download); UT1 - UTC was about -0.5 s in Dec 2016,
    0.2 km of station motion: agreement to 0.3 km in range and 0.03 deg in elevation/azimuth."""
    api = pytest.importorskip("skyfield.api")
    ts = api.load.timescale(builtin=True)
    seconds = np.arange(0, 720, 20)
    t_sky = ts.utc(2016, 12, 19, 16, 46, seconds)
    topos = api.wgs84.latlon(XINGLONG.latitude_deg, XINGLONG.longitude_deg, elevation_m=XINGLONG.altitude_m)
    alt, az, dist = (api.EarthSatellite(MICIUS_L1, MICIUS_L2, ts=ts) - topos).at(t_sky).altaz()
    track = look_angles(micius(), [XINGLONG], np.datetime64("2016-12-19T16:46") + seconds.astype("timedelta64[s]"))
    np.testing.assert_allclose(track.range_km[0], dist.km, atol=0.3)
    np.testing.assert_allclose(track.elevation_deg[0], alt.degrees, atol=0.03)
    np.testing.assert_allclose(np.angle(np.exp(1j * np.radians(track.azimuth_deg[0] - az.degrees))), 0.0, atol=math.radians(0.03))


def test_circular_orbit_radius_rates_and_period() -> None:
    orbit = CircularOrbit(500.0, 97.4, 10.0, 20.0, "2020-03-01T00:00", name="leo")
    t = np.datetime64("2020-03-01") + np.arange(0, 20000, 123).astype("timedelta64[s]")
    np.testing.assert_allclose(np.linalg.norm(orbit.ecef_km(t), axis=1), 6878.137, rtol=1e-13)
    assert orbit.period_s == pytest.approx(2 * math.pi * math.sqrt(6878.137**3 / MU_EARTH_KM3_S2), rel=1e-14)
    # at the epoch: position from RAAN and argument of latitude
    o, u, i = math.radians(10.0), math.radians(20.0), math.radians(97.4)
    expected = 6878.137 * np.array(
        [
            math.cos(u) * math.cos(o) - math.sin(u) * math.cos(i) * math.sin(o),
            math.cos(u) * math.sin(o) + math.sin(u) * math.cos(i) * math.cos(o),
            math.sin(u) * math.sin(i),
        ]
    )
    np.testing.assert_allclose(orbit.inertial_km(np.datetime64("2020-03-01")), expected[None, :], atol=1e-9)
    # J2: 97.4 deg at 500 km is (nearly) sun-synchronous, the node advancing 360 deg per year
    raan_rate, u_rate = CircularOrbit(500.0, 97.4, 0, 0, "2020-03-01", j2=True).rates_rad_s
    assert math.degrees(raan_rate) * 86400 == pytest.approx(360 / 365.2422, rel=0.01)
    n = math.sqrt(MU_EARTH_KM3_S2 / 6878.137**3)
    assert u_rate == pytest.approx(n * (1 + 1.5 * J2_EARTH * (6378.137 / 6878.137) ** 2 * (4 * math.cos(i) ** 2 - 1)), rel=1e-14)



@pytest.mark.parametrize("j2", [False, True])
def test_circular_orbit_days_after_its_epoch_against_the_closed_form(j2: bool) -> None:
    """Days after a mid-day epoch: u = u0 + u' t, O = O0 + O' t with t from datetime64 differences and
    the rates of the closed forms (Kepler n, first-order secular J2); no qrate time code involved."""
    epoch = np.datetime64("2020-03-01T07:30:00", "ns")
    offsets_s = np.array([1800.0, 86400.0 + 3 * 3600.0 + 17.25, 3.7 * 86400.0, 30 * 86400.0 - 60.0, 400 * 86400.0 + 5.5])
    t = epoch + (offsets_s * 1e9).astype("timedelta64[ns]")
    orbit = CircularOrbit(550.0, 53.0, 40.0, 300.0, "2020-03-01T07:30", j2=j2, rotating_earth=False)
    a, i = 6378.137 + 550.0, math.radians(53.0)
    n = math.sqrt(MU_EARTH_KM3_S2 / a**3)
    k = 1.5 * J2_EARTH * (6378.137 / a) ** 2 if j2 else 0.0
    node_rate, u_rate = -k * n * math.cos(i), n * (1 + k * (4 * math.cos(i) ** 2 - 1))
    dt = (t - epoch).astype(np.int64) / 1e9
    u, o = math.radians(300.0) + u_rate * dt, math.radians(40.0) + node_rate * dt
    expected = a * np.stack(
        [np.cos(u) * np.cos(o) - np.sin(u) * math.cos(i) * np.sin(o),
         np.cos(u) * np.sin(o) + np.sin(u) * math.cos(i) * np.cos(o),
         np.sin(u) * math.sin(i)], axis=-1)
    np.testing.assert_allclose(orbit.inertial_km(t), expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(orbit.ecef_km(t), expected, rtol=0, atol=1e-5)  # rotating_earth=False

@pytest.mark.parametrize(
    ("cls", "kwargs", "field"),
    [
        (
            CircularOrbit,
            {"altitude_km": 0.0, "inclination_deg": 10, "raan_deg": 0, "arg_latitude_deg": 0, "epoch_utc": "2020-01-01"},
            "altitude_km",
        ),
        (
            CircularOrbit,
            {"altitude_km": 500, "inclination_deg": 181, "raan_deg": 0, "arg_latitude_deg": 0, "epoch_utc": "2020-01-01"},
            "inclination_deg",
        ),
        (
            CircularOrbit,
            {
                "altitude_km": 500,
                "inclination_deg": 10,
                "raan_deg": float("nan"),
                "arg_latitude_deg": 0,
                "epoch_utc": "2020-01-01",
            },
            "raan_deg",
        ),
        (
            CircularOrbit,
            {"altitude_km": 500, "inclination_deg": 10, "raan_deg": 0, "arg_latitude_deg": 0, "epoch_utc": "yesterday"},
            "epoch_utc",
        ),
        (FixedPlatform, {"latitude_deg": 91, "longitude_deg": 0, "altitude_m": 20000}, "latitude_deg"),
        (FixedPlatform, {"latitude_deg": 10, "longitude_deg": 0, "altitude_m": -5}, "altitude_m"),
    ],
)
def test_platform_validation(cls: type, kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        cls(**kwargs)
    assert info.value.field == field
